/** Where the process is in its life: readiness follows it. */
export type LifecycleState = 'starting' | 'ready' | 'draining';

/** Readiness state shared by /ready, the draining middleware and shutdown. Created by main, one per process. */
export interface Lifecycle {
  readonly state: LifecycleState;
  markReady(): void;
  markDraining(): void;
}

export function createLifecycle(initial: LifecycleState = 'starting'): Lifecycle {
  let state = initial;
  return {
    get state() {
      return state;
    },
    markReady() {
      if (state === 'starting') state = 'ready';
    },
    markDraining() {
      state = 'draining';
    },
  };
}
