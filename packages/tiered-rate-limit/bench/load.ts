// Closed-loop HTTP/1.1 load generator (no wrk/autocannon on this machine): `connections` keep-alive
// sockets, each sending the next request when the previous answer arrived. Responses are framed by
// scanning bytes (status line, Content-Length), not parsed into header objects, so that the generator's
// own cost does not depend on how many headers a server sends. Runs in its own process.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

interface Job {
  url: string;
  connections: number;
  durationMs: number;
  warmupMs: number;
  headers: Record<string, string>;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const LENGTH = Buffer.from('content-length:');

function contentLength(head: Buffer): number {
  const lower = Buffer.from(head.toString('latin1').toLowerCase(), 'latin1');
  const at = lower.indexOf(LENGTH);
  if (at < 0) return 0;
  let i = at + LENGTH.length;
  while (head[i] === 32) i++;
  let n = 0;
  while (head[i]! >= 48 && head[i]! <= 57) n = n * 10 + (head[i++]! - 48);
  return n;
}

async function run(job: Job) {
  const target = new URL(job.url);
  const request = Buffer.from(
    `GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n${Object.entries(job.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`,
  );
  let recording = false;
  let stop = false;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const sockets: Socket[] = [];
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      const socket = connect(Number(target.port), target.hostname);
      socket.setNoDelay(true);
      sockets.push(socket);
      await new Promise((r) => socket.once('connect', r));
      let buffer: Buffer = Buffer.alloc(0);
      let sent = 0;
      const send = () => {
        sent = performance.now();
        socket.write(request);
      };
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
        for (;;) {
          const end = buffer.indexOf(CRLF2);
          if (end < 0) return;
          const total = end + 4 + contentLength(buffer.subarray(0, end));
          if (buffer.length < total) return;
          const status = Number(buffer.subarray(9, 12).toString('latin1'));
          buffer = buffer.subarray(total);
          if (recording) {
            latencies.push(performance.now() - sent);
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
          if (!stop) send();
        }
      });
      send();
    }),
  );
  await new Promise((r) => setTimeout(r, job.warmupMs));
  recording = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, job.durationMs));
  recording = false;
  stop = true;
  const wall = performance.now() - started;
  for (const s of sockets) s.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? Number.NaN;
  return { rps: (latencies.length / wall) * 1000, p50: pct(50), p99: pct(99), statuses: Object.fromEntries(statuses) };
}

process.on('message', async (m: Job | 'exit') => {
  if (m === 'exit') process.exit(0);
  process.send!(await run(m));
});
process.send!('ready');
