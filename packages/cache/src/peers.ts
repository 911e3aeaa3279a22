import { createRequire } from 'node:module';
import { CachePeerMissingError } from './errors.js';

/**
 * Loads an optional peer synchronously, and only when the options need it, so that memory-only
 * users can import @org/cache without ioredis or prom-client installed.
 */
export function loadPeer<T>(name: 'ioredis' | 'prom-client'): T {
  const require = createRequire(import.meta.url);
  try {
    return require(name) as T;
  } catch (error) {
    throw new CachePeerMissingError(name, error);
  }
}
