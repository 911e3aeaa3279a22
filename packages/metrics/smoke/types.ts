import { MetricsError } from '@org/metrics';

const error: MetricsError = new MetricsError('boom', { code: 'X' });
export const code: string = error.code;
