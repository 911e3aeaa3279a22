import { defineProjectConfig } from '@org/vitest-config';

export default defineProjectConfig({
  // A whole install, build, publish and consumer install: minutes on a cold npm cache.
  test: { testTimeout: 600_000 },
});
