export { CacheError } from './errors.js';
