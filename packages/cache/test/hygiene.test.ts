import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freePort, waitFor } from '@org/test-services';
import { watchHygiene } from './hygiene.js';

// The fault tests assert "0 Unhandled error event lines"; this proves the watcher would see one.
const hygiene = watchHygiene({ silent: true });

describe('hygiene watcher', () => {
  it('counts the "[ioredis] Unhandled error event" line of a client without an error listener', async () => {
    const client = new Redis({ port: await freePort(), lazyConnect: false, retryStrategy: () => null });
    try {
      await waitFor('an unhandled error line', async () => hygiene.counts().unhandledErrorLines > 0, 5_000, 20);
      expect(hygiene.counts().unhandledErrorLines).toBeGreaterThan(0);
    } finally {
      client.on('error', () => {});
      client.disconnect();
    }
  });
});
