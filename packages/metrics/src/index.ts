export { MetricsError } from './errors.js';
