import { CacheError } from '@org/cache';

const error: CacheError = new CacheError('boom', { code: 'X' });
export const code: string = error.code;
