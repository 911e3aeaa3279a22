import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const ci = process.env.CI === 'true' || process.env.CI === '1';

/** Path of a Prometheus binary; in CI a missing one is an error, not a skip. */
export function prometheusBinary(name: 'promtool' | 'prometheus'): string | undefined {
  for (const dir of ['/usr/bin', '/usr/local/bin', ...(process.env.PATH ?? '').split(':')]) {
    const p = `${dir}/${name}`;
    if (dir && existsSync(p)) return p;
  }
  if (ci) throw new Error(`${name} is required in CI (apt-get install -y prometheus)`);
  console.warn(`${name} not found: skipping the checks that need it`);
  return undefined;
}

/** Runs promtool with stdin; returns exit code and everything it printed. */
export function promtool(args: string[], input?: string): { code: number; output: string } {
  const bin = prometheusBinary('promtool');
  if (!bin) throw new Error('promtool missing');
  const r = spawnSync(bin, args, { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
