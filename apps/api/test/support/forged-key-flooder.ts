// A separate process that floods the app with random well-formed API keys (`ak_<8>_<43>_<22>`, a random HMAC tag),
// each from its own client address (the app runs with TRUST_PROXY_HOPS=1), so that no per-address budget is what
// stops them. Driven over IPC by test/security/forged-key-flood.int.test.ts: `{ base, count, concurrency, offset }`
// in, `{ statuses, elapsedMs }` out.
import { randomBytes } from 'node:crypto';

interface Order {
  base: string;
  count: number;
  concurrency: number;
  /** Added to the request index to pick distinct client addresses across rounds. */
  offset: number;
}

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');
const forgedKey = () =>
  `ak_${b64(6)
    .replace(/[^A-Za-z0-9]/g, 'x')
    .slice(0, 8)}_${b64(32)}_${b64(16).slice(0, 22)}`;
const address = (i: number) => `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}`;

async function flood({ base, count, concurrency, offset }: Order) {
  const statuses: Record<number, number> = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = offset + next++;
        const res = await fetch(`${base}/api/me`, {
          headers: { authorization: `Bearer ${forgedKey()}`, 'x-forwarded-for': address(i) },
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    }),
  );
  return { statuses, elapsedMs: performance.now() - started };
}

process.on('message', (order: Order) => {
  flood(order).then(
    (result) => process.send!(result),
    (error: unknown) => process.send!({ error: String(error) }),
  );
});
process.send!({ ready: true });
