import { InvalidOptionsError } from './errors.js';
import type { CheckInput, Decision, Limiter, ResponseOutcome, ResponseRefund, ResponseRefundOptions } from './types.js';

/**
 * The default definition of success: the response was sent in full with a status below 400. A 4xx or
 * 5xx, and a response the client abandoned before it was sent, are failures.
 */
export function requestWasSuccessful(outcome: ResponseOutcome): boolean {
  return outcome.finished && outcome.statusCode < 400;
}

/** Validates the options (at construction) and returns the refund step a binding runs when a response is done. */
export function createResponseRefund(options: ResponseRefundOptions = {}): ResponseRefund {
  const successes = options.skipSuccessfulRequests ?? false;
  const failures = options.skipFailedRequests ?? false;
  if (typeof successes !== 'boolean') throw new InvalidOptionsError('skipSuccessfulRequests', 'must be a boolean');
  if (typeof failures !== 'boolean') throw new InvalidOptionsError('skipFailedRequests', 'must be a boolean');
  const give = (limiter: Limiter, input: CheckInput, decision: Decision, successful: boolean) => {
    if (successful ? !successes : !failures) return;
    limiter
      .refund({
        key: decision.key,
        tier: decision.tier.name,
        policies: decision.policies.map((s) => s.policy),
        cost: input.cost,
        at: decision.nowMs,
        source: decision.source,
      })
      .catch(() => {
        // The store is unavailable: the request stays counted (the limiter reports the outage itself).
      });
  };
  return {
    enabled: successes || failures,
    settle(limiter, input, decision, successful) {
      if (!(successes || failures) || !decision.allowed || decision.policies.length === 0) return;
      if (decision.source === 'local-block' || decision.source === 'none') return;
      if (typeof successful === 'boolean') give(limiter, input, decision, successful);
      else
        successful.then(
          (ok) => give(limiter, input, decision, ok === true),
          () => give(limiter, input, decision, false),
        );
    },
  };
}
