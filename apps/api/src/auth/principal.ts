/** Who is calling, whichever credential proved it. */
export interface Principal {
  kind: 'session' | 'api-key';
  accountId: string;
  /** The location the credential is scoped to; routes refuse other locations. */
  locationId: string | null;
  /** For sessions: the session token, so that logout can revoke it. */
  sessionToken?: string;
  /** For API keys: what the key may do (`requireScope`). Sessions hold every scope. */
  scopes?: readonly string[];
}
