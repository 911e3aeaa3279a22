import { OpenApiError } from '@org/openapi';

const error: OpenApiError = new OpenApiError('boom', { code: 'X' });
export const code: string = error.code;
