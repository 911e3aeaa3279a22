export { OpenApiError } from './errors.js';
