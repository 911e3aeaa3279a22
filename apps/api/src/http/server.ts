import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

/** Options of `listen`. */
export interface ListenOptions {
  port: number;
  host: string;
  /** Time allowed to receive the request headers; slower clients (slowloris) are dropped. */
  headersTimeoutMs: number;
  /** Time allowed to receive the whole request. */
  requestTimeoutMs: number;
  /** Idle keep-alive sockets are closed after this long. @default 5000 */
  keepAliveTimeoutMs?: number;
}

/**
 * Starts the HTTP server with explicit timeouts. Node checks header and request timeouts only every
 * `connectionsCheckingInterval` (30 s by default), which would let a slow client live 30 s past headersTimeout.
 */
export async function listen(handler: RequestListener, options: ListenOptions): Promise<Server> {
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs),
    },
    handler,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export const portOf = (server: Server): number => (server.address() as AddressInfo).port;

/**
 * Stops accepting connections and waits for in-flight requests. Idle keep-alive sockets are closed at once (a plain
 * close() waits for their idle timeout: 6.9 s measured), busy ones close after their response (the app sends
 * `Connection: close` while draining). After `timeoutMs` the remaining sockets are cut. Resolves `true` when
 * everything finished in time.
 */
export async function drain(server: Server, timeoutMs: number): Promise<boolean> {
  if (!server.listening) return true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // A socket that just finished a request becomes idle without closing if the client did not read our Connection: close.
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const inTime = await Promise.race([closed.then(() => true as const), timedOut]);
    if (!inTime) {
      server.closeAllConnections();
      await closed;
    }
    return inTime;
  } finally {
    clearInterval(sweeper);
    clearTimeout(timer);
  }
}
