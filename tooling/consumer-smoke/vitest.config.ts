import { defineProjectConfig } from '@org/vitest-config';

export default defineProjectConfig({
  // npm installs from the registry: minutes, not seconds, on a cold cache.
  test: { testTimeout: 240_000, hookTimeout: 600_000 },
});
