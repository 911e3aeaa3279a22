-- Up Migration
-- Accounts own GoHighLevel locations; a location is the tenant every other row hangs off.
CREATE TABLE accounts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,
  name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_lower_key ON accounts (lower(email));

CREATE TABLE locations (
  id text PRIMARY KEY, -- the GHL location id
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text,
  timezone text,
  tier text NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro', 'enterprise')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX locations_account_id_idx ON locations (account_id);

-- OAuth tokens are stored as AES-256-GCM envelopes; key_id names the key that sealed them so keys can rotate.
CREATE TABLE ghl_oauth_tokens (
  location_id text PRIMARY KEY REFERENCES locations (id) ON DELETE CASCADE,
  access_token_encrypted bytea NOT NULL,
  refresh_token_encrypted bytea NOT NULL,
  key_id text NOT NULL,
  scopes text[] NOT NULL DEFAULT '{}',
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ghl_oauth_tokens_key_id_idx ON ghl_oauth_tokens (key_id);

-- Only a SHA-256 of the session id is stored: a leaked table does not yield usable cookies.
CREATE TABLE sessions (
  id_hash bytea PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  location_id text REFERENCES locations (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_account_id_idx ON sessions (account_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- API keys for service-to-service calls: the key is shown once; only its SHA-256 is kept, plus a public prefix.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  location_id text REFERENCES locations (id) ON DELETE CASCADE,
  name text NOT NULL,
  prefix text NOT NULL,
  key_hash bytea NOT NULL UNIQUE,
  scopes text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_account_id_idx ON api_keys (account_id);

-- Down Migration
DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE ghl_oauth_tokens;
DROP TABLE locations;
DROP TABLE accounts;
