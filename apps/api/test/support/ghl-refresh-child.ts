// A second (and third) process for the cross-process refresh test: its own pool, token store and single-flight map.
// Prints "ready", waits for "go" on stdin, asks for the location's access token 25 times at once, prints the results.
import { createInterface } from 'node:readline';
import { createDatabase } from '../../src/db/database.js';
import { createOAuthClient } from '../../src/ghl/oauth.js';
import { createTokenCipher } from '../../src/ghl/token-crypto.js';
import { createTokenStore } from '../../src/ghl/token-store.js';
import { createLogger } from '../../src/observability/logger.js';

const env = process.env as Record<string, string>;
const db = createDatabase({
  url: env.DATABASE_URL!,
  logger: createLogger({ level: 'silent' }),
  statementTimeoutMs: 20_000,
});
const store = createTokenStore({
  db,
  cipher: createTokenCipher({ keys: { k1: Buffer.from(env.KEY_HEX!, 'hex') }, currentKeyId: 'k1' }),
  oauth: createOAuthClient({ baseUrl: env.FAKE_URL!, clientId: 'fake-client-id', clientSecret: 'fake-client-secret' }),
});
await db.query('SELECT 1');
process.stdout.write('ready\n');
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (line.trim() !== 'go') continue;
  const results = await Promise.allSettled(Array.from({ length: 25 }, () => store.accessToken(env.LOCATION!)));
  process.stdout.write(
    `${JSON.stringify(results.map((r) => (r.status === 'fulfilled' ? r.value : `ERR:${(r.reason as { code?: string }).code}`)))}\n`,
  );
  break;
}
await db.close();
process.exit(0);
