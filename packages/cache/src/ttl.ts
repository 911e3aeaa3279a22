/** Common TTLs in seconds, named after what they cache. */
export const CacheTTL = Object.freeze({
  SHORT: 60,
  MEDIUM: 300,
  LONG: 1800,
  WORKFLOW: 600,
  ANALYSIS: 3600,
  USER: 900,
} as const);

export type CacheTTLName = keyof typeof CacheTTL;
