import { RateLimitError } from '@org/tiered-rate-limit';

const error: RateLimitError = new RateLimitError('boom', { code: 'X' });
export const code: string = error.code;
