// Building the document of a 100-route API, same schemas and routes for every library.
import { performance } from 'node:perf_hooks';
import { OpenAPIRegistry, OpenApiGeneratorV31, extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { interleave, median } from '@org/bench';
import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import { createOpenApi, defineRoute, type RouteDefinition } from '../src/index.js';

// zod-to-openapi's documented setup: it adds `.openapi()` to Zod's prototypes.
extendZodWithOpenApi(z);

const ROUTES = 100;
const info = { title: 'Bench', version: '1.0.0' };

// Each library gets its own schema instances so that no library's registry or metadata leaks into another's run.
function schemas(id: (name: string) => Record<string, unknown>) {
  const User = z
    .object({
      id: z.uuid(),
      name: z.string().min(1).max(100),
      email: z.email(),
      role: z.enum(['admin', 'member']),
      createdAt: z.iso.datetime(),
    })
    .meta(id('User'));
  const CreateUser = z
    .strictObject({ name: z.string().min(1).max(100), email: z.email(), role: z.enum(['admin', 'member']).optional() })
    .meta(id('CreateUser'));
  const Problem = z
    .object({ type: z.string(), title: z.string(), status: z.int(), detail: z.string().optional() })
    .meta(id('Problem'));
  const Params = z.object({ id: z.uuid() });
  return { User, CreateUser, Problem, Params };
}

function buildOurs(s: ReturnType<typeof schemas>) {
  const routes: RouteDefinition[] = [];
  for (let i = 0; i < ROUTES; i++) {
    routes.push(
      defineRoute({
        method: 'post',
        path: `/r${i}/users/:id`,
        operationId: `op${i}`,
        summary: `Operation ${i}`,
        request: { params: s.Params, body: s.CreateUser },
        responses: { 200: { description: 'OK', body: s.User } },
      }),
    );
  }
  // Ours documents 400 (and 404/413/415/429/500/503) by itself, from shared components.
  return createOpenApi({ info, routes }).json;
}

function buildAsteas(s: ReturnType<typeof schemas>) {
  const registry = new OpenAPIRegistry();
  const User = registry.register('User', s.User);
  const CreateUser = registry.register('CreateUser', s.CreateUser);
  const Problem = registry.register('Problem', s.Problem);
  for (let i = 0; i < ROUTES; i++) {
    registry.registerPath({
      method: 'post',
      path: `/r${i}/users/{id}`,
      operationId: `op${i}`,
      summary: `Operation ${i}`,
      request: { params: s.Params, body: { content: { 'application/json': { schema: CreateUser } } } },
      responses: {
        200: { description: 'OK', content: { 'application/json': { schema: User } } },
        400: { description: 'Bad request', content: { 'application/json': { schema: Problem } } },
      },
    });
  }
  return JSON.stringify(new OpenApiGeneratorV31(registry.definitions).generateDocument({ openapi: '3.1.0', info }));
}

function buildZodOpenapi(s: ReturnType<typeof schemas>) {
  const paths: Record<string, unknown> = {};
  for (let i = 0; i < ROUTES; i++) {
    paths[`/r${i}/users/{id}`] = {
      post: {
        operationId: `op${i}`,
        summary: `Operation ${i}`,
        requestParams: { path: s.Params },
        requestBody: { content: { 'application/json': { schema: s.CreateUser } } },
        responses: {
          200: { description: 'OK', content: { 'application/json': { schema: s.User } } },
          400: { description: 'Bad request', content: { 'application/json': { schema: s.Problem } } },
        },
      },
    };
  }
  return JSON.stringify(createDocument({ openapi: '3.1.0', info, paths } as Parameters<typeof createDocument>[0]));
}

export interface DocumentResult {
  medians: Record<string, number>;
  sizes: Record<string, number>;
  samples: number;
}

/** Times each build `perRound` times per round over `rounds` interleaved rounds; medians in ms. */
export async function benchDocument(rounds = 7, perRound = 9): Promise<DocumentResult> {
  // zod-openapi and ours read component names from `.meta({ id })`; zod-to-openapi registers them by name.
  const withId = () => (name: string) => ({ id: name });
  const candidates: Record<string, () => string> = {
    '@org/openapi': () => buildOurs(schemas(withId())),
    '@asteasolutions/zod-to-openapi': () => buildAsteas(schemas(() => ({}))),
    'zod-openapi': () => buildZodOpenapi(schemas(withId())),
  };
  const sizes: Record<string, number> = {};
  for (const [name, build] of Object.entries(candidates)) for (let i = 0; i < 5; i++) sizes[name] = build().length;
  const runs = await interleave(
    rounds,
    Object.fromEntries(
      Object.entries(candidates).map(([name, build]) => [
        name,
        async () => {
          const times: number[] = [];
          for (let i = 0; i < perRound; i++) {
            const started = performance.now();
            build();
            times.push(performance.now() - started);
          }
          return times;
        },
      ]),
    ),
  );
  const medians = Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, median(r.flat())]));
  return { medians, sizes, samples: rounds * perRound };
}
