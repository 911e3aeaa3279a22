import type { HeaderDefinition, JsonSchema } from './types.js';
// The default 429/503 bodies and the rate-limit headers as plain data (JSON Schema and OpenAPI header objects),
// for an app that documents them (e.g. in its OpenAPI error catalog) or validates what it receives.

const retryAfter = {
  type: 'integer',
  minimum: 1,
  description: 'Seconds to wait before retrying (equal to the Retry-After header).',
} as const;
const currentTier = { type: 'string', description: 'Name of the tier the request was decided with.' } as const;

/** The fields of `error` in the default (`format: 'json'`) 429 body, beyond `code` and `message`. */
export const rateLimitExceededFields = {
  retryAfter,
  currentTier,
  upgradeUrl: {
    type: 'string',
    description: 'Where to upgrade; only when `upgradeUrl` is set and a higher tier has a higher limit.',
  },
  limits: {
    type: 'object',
    description:
      "The violated policy's limit in the current tier (`current`) and, with an upgrade prompt, in the next tier up.",
    required: ['current'],
    properties: { current: { type: 'integer', minimum: 1 } },
    additionalProperties: { type: 'integer', minimum: 1 },
  },
} as const satisfies Record<string, JsonSchema>;

/** The fields of `error` in the default (`format: 'json'`) 503 body, beyond `code` and `message`. */
export const rateLimitUnavailableFields = { retryAfter, currentTier } as const satisfies Record<string, JsonSchema>;

const envelope = (code: string, fields: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  required: ['success', 'error'],
  properties: {
    success: { const: false },
    error: {
      type: 'object',
      required: ['message', 'code', ...required],
      properties: { message: { type: 'string' }, code: { const: code }, ...fields },
    },
  },
});

/** JSON Schemas of the default `format: 'json'` bodies, by status. */
export const rateLimitBodySchemas: Readonly<{ 429: JsonSchema; 503: JsonSchema }> = {
  429: envelope('RATE_LIMIT_EXCEEDED', rateLimitExceededFields, ['retryAfter', 'currentTier', 'limits']),
  503: envelope('RATE_LIMIT_UNAVAILABLE', rateLimitUnavailableFields, ['retryAfter', 'currentTier']),
};

const integer = { type: 'integer', minimum: 0 } as const;

/** Every header the limiter sends, as OpenAPI header objects, in the order it writes them. */
export const rateLimitHeaderDefinitions: Readonly<Record<string, HeaderDefinition>> = {
  'X-RateLimit-Tier': { description: 'Name of the tier the request was decided with.', schema: { type: 'string' } },
  'Retry-After': {
    description: 'Seconds to wait before retrying (429 and 503 only).',
    schema: { type: 'integer', minimum: 1 },
  },
  'RateLimit-Policy': {
    description:
      'IETF draft-11 RateLimit-Policy: quota and window of every policy that applied, e.g. `"general";q=20;w=60`.',
    schema: { type: 'string' },
  },
  RateLimit: {
    description:
      'IETF draft-11 RateLimit: remaining units and seconds to reset of every policy, e.g. `"general";r=0;t=42`.',
    schema: { type: 'string' },
  },
  'X-RateLimit-Limit': { description: 'Units allowed per window by the most restrictive policy.', schema: integer },
  'X-RateLimit-Window': { description: 'Window of the most restrictive policy, in seconds.', schema: integer },
  'X-RateLimit-Remaining': {
    description: 'Units left in the current window of the most restrictive policy.',
    schema: integer,
  },
  'X-RateLimit-Reset': {
    description: "When the most restrictive policy's window resets, in epoch seconds.",
    schema: integer,
  },
};
