import { describe, expect, it } from 'vitest';
import { RouteDefinitionError } from './errors.js';
import { joinPath, pathParamNames, toExpressPath, toOpenApiPath } from './path.js';

describe('paths', () => {
  it('converts Express 5 params to OpenAPI templates and back', () => {
    expect(toOpenApiPath('/workflows/:id')).toBe('/workflows/{id}');
    expect(toOpenApiPath('/a/:orgId/b/:item_id')).toBe('/a/{orgId}/b/{item_id}');
    expect(toOpenApiPath('/')).toBe('/');
    expect(pathParamNames('/a/:orgId/b/:item_id')).toEqual(['orgId', 'item_id']);
    expect(toExpressPath('/a/{orgId}/b/{item_id}')).toBe('/a/:orgId/b/:item_id');
  });

  it.each(['workflows', '/files/*path', '/a{/:opt}', '/a/', '/a/:id/:id', '/a/:', '/a/(x)'])('rejects %s', (path) => {
    expect(() => toOpenApiPath(path)).toThrow(RouteDefinitionError);
  });

  it('joins mount prefixes like Express', () => {
    expect(joinPath('/api', '/')).toBe('/api');
    expect(joinPath('', '/')).toBe('/');
    expect(joinPath('/api/', '/x')).toBe('/api/x');
    expect(joinPath('/v1/api', '/x/:id')).toBe('/v1/api/x/:id');
  });
});
