import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '@org/test-services';

// Starts the example the way its header says (`pnpm start`'s command) and reads its /metrics like Prometheus does.
const TOKEN = 'example-metrics-token-0123456789';
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: join(import.meta.dirname, '..'),
    env: { METRICS_TOKEN: TOKEN },
    readyPath: '/hello/probe',
  });
});

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

/** The value of the one sample of `name` whose labels include every pair of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics-express example', () => {
  it('counts requests by route template and exposes them on a protected /metrics', async () => {
    for (const path of ['/hello/ada', '/hello/grace', '/hello/linus?lang=fr', '/nowhere/1', '/nowhere/2'])
      await (await fetch(server.url + path)).arrayBuffer();
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    // The readiness probe was a request too: 4 on the template, not one series per name.
    expect(sample(text, 'http_requests_total', { route: '/hello/:name', status_code: '200', service: 'example' })).toBe(
      4,
    );
    expect(text).not.toContain('/hello/ada');
    expect(sample(text, 'http_requests_total', { route: '__unmatched__', status_code: '404' })).toBe(2);
    expect(sample(text, 'greetings_total', { lang: 'fr' })).toBe(1);
    expect(sample(text, 'greetings_total', { lang: 'en' })).toBe(3);
    expect(sample(text, 'http_request_duration_seconds_count', { route: '/hello/:name' })).toBe(4);
  });
});
