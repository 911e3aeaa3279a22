import { spawnSync } from 'node:child_process';
import { unavailable } from './availability.js';
import { which } from './process.js';

/** Path of Debian's `prometheus` or `promtool`; under CI a missing one throws instead of answering undefined. */
export function prometheusBinary(name: 'promtool' | 'prometheus'): string | undefined {
  return which(name, ['/usr/bin', '/usr/local/bin']) ?? (unavailable(name, `${name} is not installed (apt-get install -y prometheus)`) || undefined);
}

/** Runs promtool with `input` on stdin; returns its exit code and everything it printed. */
export function promtool(args: string[], input?: string): { code: number; output: string } {
  const bin = prometheusBinary('promtool');
  if (!bin) throw new Error('promtool is not installed');
  const r = spawnSync(bin, args, { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
