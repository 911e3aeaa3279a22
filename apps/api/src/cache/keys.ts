import { CacheTTL, defineKeys } from '@org/cache';

/**
 * The app's cache keys, in one place: every service builds its keys here (never by string concatenation). The
 * location is the tenant, so its keys share one Redis Cluster slot; arguments are escaped by defineKeys, so two
 * different argument lists never build the same key.
 */
export const CacheKeys = defineKeys(
  {
    /** One workflow (metadata and definition). */
    workflow: 'workflow:{locationId}:{workflowId}',
    /** The workflow list of a location. */
    workflows: 'workflows:{locationId}',
    /** The latest analysis of a workflow. */
    analysis: 'analysis:{workflowId}',
    /**
     * One analysis result of the workflow service, by workflow version and analyzer version. The location is part of
     * it because workflow ids are chosen by whoever imports a definition: a bare `analysis:{workflowId}` could be
     * shared across tenants.
     */
    workflowAnalysis: 'analysis:{locationId}:{workflowId}:{version}:{analyzerVersion}',
    /**
     * A verified credential (src/auth/principal-cache.ts), by kind and the SHA-256 of the credential (base64url): never
     * the credential itself. Deleted on logout, revocation and GHL uninstall.
     */
    principal: 'principal:{kind}:{credentialHash}',
    /** The user record (account and tier) of a location; invalidated when the tier changes. */
    user: 'user:{locationId}',
    /**
     * What every analysis of a location reads besides its own workflow (the other definitions, the inventory, GHL's
     * workflow list): shared by the analyses of a batch so a location of N workflows costs about N GHL requests, not N².
     */
    analysisContext: 'analysis-context:{locationId}',
  },
  { tenant: 'locationId' },
);

/** Seconds each kind of entry lives: 10 min, 10 min, 1 h, 15 min, 10 min. */
export const CacheTtls = {
  analysisContext: CacheTTL.WORKFLOW,
  workflow: CacheTTL.WORKFLOW,
  workflows: CacheTTL.WORKFLOW,
  analysis: CacheTTL.ANALYSIS,
  user: CacheTTL.USER,
} as const;
