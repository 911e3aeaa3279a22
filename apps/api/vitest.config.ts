import { defineProjectConfig } from '@org/vitest-config';

// fakes/ (the fake GHL and Stripe servers of demo mode and the tests) has unit tests of its own.
export default defineProjectConfig({ test: { include: ['fakes/**/*.test.ts'] } });
