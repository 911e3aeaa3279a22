import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The secrets a development or test server on loopback generates for itself when they are not set. */
export const DEVELOPMENT_SECRET_NAMES = [
  'ENCRYPTION_KEY',
  'SESSION_SECRET',
  'INTERNAL_TOKEN',
  'STRIPE_WEBHOOK_SECRET',
  'GHL_CLIENT_SECRET',
] as const;
export type DevelopmentSecrets = Record<(typeof DEVELOPMENT_SECRET_NAMES)[number], string>;

/** Fresh random values for every development secret (never a constant of the repository). */
export function randomDevelopmentSecrets(): DevelopmentSecrets {
  return {
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('base64url'),
    INTERNAL_TOKEN: randomBytes(24).toString('base64url'),
    STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64url')}`,
    GHL_CLIENT_SECRET: randomBytes(24).toString('base64url'),
  };
}

/** The file in the data folder that keeps a development server's generated secrets (mode 0600). */
export const DEVELOPMENT_SECRETS_FILE = 'development-secrets.json';

/**
 * The development secrets of a data folder: generated once, on the first start, and kept in
 * `<dataDir>/development-secrets.json` (readable by its owner only), so that data written by one run (sessions,
 * encrypted tokens) is still readable by the next, and no two checkouts share a secret.
 */
export function developmentSecretsIn(dataDir: string): DevelopmentSecrets {
  const file = join(dataDir, DEVELOPMENT_SECRETS_FILE);
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevelopmentSecrets>;
    if (DEVELOPMENT_SECRET_NAMES.every((name) => typeof stored[name] === 'string' && stored[name] !== ''))
      return stored as DevelopmentSecrets;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secrets = randomDevelopmentSecrets();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
