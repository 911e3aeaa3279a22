import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/awaited-operation.ts', import.meta.url));

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', script],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

describe('a pending operation keeps its process alive', () => {
  // The deadline and first-connection timers are what answers an operation when Redis never does; were they
  // unref'd, Node would see nothing left to do and exit 13 (unsettled top-level await) instead of answering.
  it('operations awaiting a Redis that never connects are answered from memory, and the process exits 0', async () => {
    for (let i = 0; i < 3; i++) {
      const { code, stdout, stderr } = await run();
      expect(code, `run ${i}: exit code (stderr: ${stderr})`).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ value: 'v', redis: 'down' });
    }
  }, 120_000);
});
