/** True when running under CI, where a missing service is a failure, never a skip. */
export const isCI = process.env.CI === 'true' || process.env.CI === '1';

/** A test needed a service and could not get one. */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor(
    readonly service: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${service} is not available: ${reason}`, options);
  }
}

const announced = new Set<string>();

/**
 * Turns a failed probe into the policy of this run: under CI it throws (the test file fails with
 * the reason); elsewhere it prints the reason once and answers `false` so the caller can skip.
 */
export function unavailable(service: string, reason: string, cause?: unknown): false {
  if (isCI) throw new ServiceUnavailableError(service, reason, { cause });
  if (!announced.has(service)) {
    announced.add(service);
    console.warn(`[test-services] skipping tests that need ${service}: ${reason}`);
  }
  return false;
}
