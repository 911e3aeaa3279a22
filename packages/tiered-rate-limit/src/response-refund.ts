import { InvalidOptionsError } from './errors.js';
import type { CheckInput, Decision, Limiter } from './limiter.js';

/** Which admitted requests stop counting once their response is done. */
export interface ResponseRefundOptions {
  /** Give back what a successful request took, so only failures count (login endpoints). @default false */
  skipSuccessfulRequests?: boolean;
  /** Give back what a failed request took, so only successes count. @default false */
  skipFailedRequests?: boolean;
}

/** What a framework binding knows about a response once it is done. */
export interface ResponseOutcome {
  /** The status code that was sent. */
  readonly statusCode: number;
  /** Whether the response was sent in full; false when the client went away or the response failed midway. */
  readonly finished: boolean;
}

/**
 * The default definition of success: the response was sent in full with a status below 400. A 4xx or
 * 5xx, and a response the client abandoned before it was sent, are failures.
 */
export function requestWasSuccessful(outcome: ResponseOutcome): boolean {
  return outcome.finished && outcome.statusCode < 400;
}

/** Refunds after the response, shared by every framework binding. */
export interface ResponseRefund {
  /** False when neither option is set: a binding then need not watch responses at all. */
  readonly enabled: boolean;
  /**
   * Gives back what `decision` took (same key, tier, policies and cost as `input`) when the response's
   * success, as the binding judged it, is one the options skip. Only admitted decisions that counted
   * something are refunded (a 429 took nothing); the refund is credited to the window and store that
   * counted the request. Never throws: a failed refund leaves the request counted.
   */
  settle(limiter: Limiter, input: CheckInput, decision: Decision, successful: boolean | Promise<boolean>): void;
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
      .refund({ key: decision.key, tier: decision.tier.name, policies: decision.policies.map((s) => s.policy), cost: input.cost, at: decision.nowMs, source: decision.source })
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
      else successful.then((ok) => give(limiter, input, decision, ok === true), () => give(limiter, input, decision, false));
    },
  };
}
