import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp, type Variant } from './apps.js';

// One benchmark server per child process, so process.cpuUsage() is the server's own CPU.
const variant = process.env['BENCH_VARIANT'] as Variant;
const { listener } = buildApp(variant);
const server = createServer(listener).listen(0, '127.0.0.1');
server.keepAliveTimeout = 60_000;
await once(server, 'listening');
process.on('message', (m: { type: string }) => {
  if (m.type === 'cpu') {
    const u = process.cpuUsage();
    process.send?.({ type: 'cpu', micros: u.user + u.system });
  }
});
process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
