export { RateLimitError } from './errors.js';
