import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('publishes through changesets to a private registry, and a fresh npm project uses what was published', () => {
  const result = spawnSync('pnpm', ['exec', 'tsx', 'verify.ts'], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  const output = `${result.stdout}\n${result.stderr}`;
  // The whole log is the evidence; show it in the test output.
  console.log(
    output
      .split('\n')
      .filter((l) => !l.includes('🦋  info'))
      .join('\n'),
  );
  expect(result.status, output.slice(-4000)).toBe(0);
  expect(output).toContain('release verification passed');
  expect(output).toMatch(/\| @org\/cache \| \d+\.\d+\.\d+ \| [\d.]+ kB \|/);
  expect(output).toContain('the private app (api) was not published');
});
