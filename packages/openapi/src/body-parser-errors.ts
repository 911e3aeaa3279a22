import { DEFAULT_ERRORS } from './components.js';
import type { BodyParserErrorSpec, ErrorCatalog, ErrorStatus } from './types.js';

/**
 * body-parser's error types (the stable strings it documents, also used by express.json) and how an API answers
 * them: the one table the routers use, exported so an app's own error handler answers them the same way.
 */
export const bodyParserErrors: Readonly<Record<string, BodyParserErrorSpec>> = {
  'entity.parse.failed': { status: 400, code: 'INVALID_JSON', message: 'The request body is not valid JSON' },
  'entity.verify.failed': { status: 400, code: 'INVALID_BODY', message: 'The request body was rejected' },
  'request.aborted': { status: 400, code: 'REQUEST_ABORTED', message: 'The request was aborted' },
  'request.size.invalid': {
    status: 400,
    code: 'INVALID_BODY',
    message: 'The request body length does not match Content-Length',
  },
  'entity.too.large': { status: 413, message: 'Request body too large' },
  'parameters.too.many': { status: 413, message: 'Too many parameters' },
  'encoding.unsupported': { status: 415, message: 'Unsupported content encoding' },
  'charset.unsupported': { status: 415, message: 'Unsupported charset' },
};

/** The status, code and message of a body-parser error (`error.type` in the table), else undefined. 413 and 415 take the catalog's code, and 413 its message. */
export function bodyParserError(
  error: unknown,
  catalog: ErrorCatalog = DEFAULT_ERRORS,
): { status: ErrorStatus; code: string; message: string } | undefined {
  const type = (error as { type?: unknown } | null | undefined)?.type;
  if (typeof type !== 'string' || !Object.hasOwn(bodyParserErrors, type)) return undefined;
  const spec = bodyParserErrors[type]!;
  const message = type === 'entity.too.large' ? (catalog[413]?.message ?? DEFAULT_ERRORS[413].message) : spec.message;
  return {
    status: spec.status,
    code: spec.code ?? catalog[spec.status]?.code ?? DEFAULT_ERRORS[spec.status].code,
    message,
  };
}

/** Every code the body-parser table can send with `status` under `catalog` (for the catalog's documented `codes`). */
export function bodyParserCodes(status: ErrorStatus, catalog: ErrorCatalog = DEFAULT_ERRORS): string[] {
  const codes = Object.values(bodyParserErrors)
    .filter((spec) => spec.status === status)
    .map((spec) => spec.code ?? catalog[status]?.code ?? DEFAULT_ERRORS[status].code);
  return [...new Set(codes)];
}
