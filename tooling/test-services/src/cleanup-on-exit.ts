// Private servers must not outlive a test process that crashed or was interrupted.
const owned = new Set<number>();
let hooked = false;

export function own(pid: number): void {
  owned.add(pid);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const p of owned) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}

export function disown(pid: number): void {
  owned.delete(pid);
}
