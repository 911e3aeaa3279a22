import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VALID_SESSION, createExampleApp } from './example-app.js';
import { listen } from '@org/test-services';

const run = promisify(execFile);
const dir = resolve(import.meta.dirname, '.generated', `client-${process.pid}`);
const tsc = join(createRequire(import.meta.url).resolve('typescript/package.json'), '..', 'bin', 'tsc');

// A consumer's client: types generated from /openapi.json, calls written against them.
const CLIENT = `import type { paths } from './schema.js';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
export type WorkflowList = Json<paths['/workflows']['get']['responses'][200]>;
export type NewWorkflow = NonNullable<paths['/workflows']['post']['requestBody']>['content']['application/json'];
export type Workflow = Json<paths['/workflows']['post']['responses'][201]>;
export type ListQuery = NonNullable<paths['/workflows']['get']['parameters']['query']>;

export function createClient(baseUrl: string, session: string) {
  const headers = { cookie: 'sid=' + session, 'content-type': 'application/json' };
  return {
    async listWorkflows(query: ListQuery): Promise<WorkflowList> {
      const params = new URLSearchParams();
      if (query.status) params.set('status', query.status);
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      const res = await fetch(baseUrl + '/workflows?' + params.toString(), { headers });
      if (res.status !== 200) throw new Error('listWorkflows: ' + res.status);
      return (await res.json()) as WorkflowList;
    },
    async createWorkflow(body: NewWorkflow): Promise<Workflow> {
      const res = await fetch(baseUrl + '/workflows', { method: 'POST', headers, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error('createWorkflow: ' + res.status);
      return (await res.json()) as Workflow;
    },
  };
}

// The generated types carry the schemas' constraints the compiler can check:
// @ts-expect-error strict body: unknown properties are not allowed
export const extra: NewWorkflow = { name: 'x', steps: [], isAdmin: true };
// @ts-expect-error status is an enum
export const badStatus: ListQuery = { status: 'archived' };
export const stepType: Workflow['steps'][number]['type'] = 'send_email';
`;

describe('a client generated with openapi-typescript', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    server = await listen(createExampleApp().app);
    mkdirSync(dir, { recursive: true });
    const served = await (await fetch(`${server.url}/openapi.json`)).text();
    writeFileSync(join(dir, 'schema.ts'), astToString(await openapiTS(served)));
    writeFileSync(join(dir, 'client.ts'), CLIENT);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['client.ts'],
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('type-checks with tsc (including the expected type errors)', async () => {
    await expect(run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir })).resolves.toBeTruthy();
  }, 120_000);

  it('tsc fails when the client misuses the generated types (control)', async () => {
    writeFileSync(
      join(dir, 'misuse.ts'),
      `import type { NewWorkflow } from './client.js';\nexport const w: NewWorkflow = { name: 1, steps: [] };\n`,
    );
    writeFileSync(
      join(dir, 'tsconfig.misuse.json'),
      JSON.stringify({ extends: './tsconfig.json', files: ['misuse.ts'] }),
    );
    const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.misuse.json')], { cwd: dir }).then(
      () => 'passed',
      (error: { stdout?: string }) => error.stdout ?? 'failed',
    );
    expect(result).toMatch(/misuse\.ts.*TS2322/);
  }, 120_000);

  it('calls the example app', async () => {
    // The generated module is checked by tsc above; here it only needs the shape the test calls.
    interface Client {
      createWorkflow(body: {
        name: string;
        steps: { type: string; delaySeconds?: number }[];
      }): Promise<{ name: string; status: string }>;
      listWorkflows(query: { limit?: number }): Promise<{ items: { name: string }[] }>;
    }
    const { createClient } = (await import(join(dir, 'client.ts'))) as {
      createClient: (baseUrl: string, session: string) => Client;
    };
    const client = createClient(`${server.url}/api`, VALID_SESSION);
    const created = await client.createWorkflow({ name: 'From client', steps: [{ type: 'wait', delaySeconds: 5 }] });
    expect(created).toMatchObject({ name: 'From client', status: 'draft' });
    const page = await client.listWorkflows({ limit: 10 });
    expect(page.items.map((w) => w.name)).toContain('From client');
  });
});
