import { afterAll, beforeAll, expect, vi, type MockInstance } from 'vitest';

/**
 * Records what must never happen while Redis misbehaves: "[ioredis] Unhandled error event" lines
 * (ioredis prints them with console.error when an error event has no listener) and unhandled
 * promise rejections. `assertClean()` fails the test if any occurred.
 */
export function watchHygiene(options: { silent?: boolean } = {}): {
  assertClean(): void;
  counts(): { unhandledErrorLines: number; unhandledRejections: number };
} {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  let spy: MockInstance<typeof console.error>;
  const writes: string[] = [];
  const originalWrite = process.stderr.write.bind(process.stderr);
  beforeAll(() => {
    process.on('unhandledRejection', onRejection);
    spy = vi.spyOn(console, 'error');
    // The self-test provokes the line on purpose; keep it out of the log so a grep of CI logs stays meaningful.
    if (options.silent) spy.mockImplementation(() => {});
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      writes.push(String(chunk));
      return originalWrite(chunk, ...rest);
    }) as typeof process.stderr.write;
  });
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
    spy.mockRestore();
    process.stderr.write = originalWrite;
  });
  const counts = () => ({
    unhandledErrorLines:
      spy.mock.calls.filter((args) => args.map(String).join(' ').includes('Unhandled error event')).length +
      writes.filter((w) => w.includes('Unhandled error event')).length,
    unhandledRejections: rejections.length,
  });
  return {
    counts,
    assertClean() {
      expect(counts()).toEqual({ unhandledErrorLines: 0, unhandledRejections: 0 });
    },
  };
}
