import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';

describe('createApp', () => {
  let base = '';
  let close: () => void = () => {};
  beforeAll(async () => {
    const server = createApp({ version: '1.2.3' }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it('answers /health without X-Powered-By', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(await res.json()).toEqual({ status: 'ok', version: '1.2.3' });
  });
});
