-- Up Migration
-- OAuth install: the `state` sent to GHL's location chooser, kept server-side (hashed), short-lived and single-use.
CREATE TABLE ghl_oauth_states (
  state_hash bytea PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX ghl_oauth_states_expires_at_idx ON ghl_oauth_states (expires_at);

-- App INSTALL/UNINSTALL webhooks already processed: webhookId is the replay key.
CREATE TABLE ghl_webhook_events (
  webhook_id text PRIMARY KEY,
  event_type text NOT NULL,
  location_id text,
  event_timestamp timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ghl_webhook_events_received_at_idx ON ghl_webhook_events (received_at);

-- Who installed, and when the pair was last rotated (refresh tokens rotate on every use).
ALTER TABLE ghl_oauth_tokens
  ADD COLUMN company_id text,
  ADD COLUMN user_id text,
  ADD COLUMN refreshed_at timestamptz;

-- Down Migration
ALTER TABLE ghl_oauth_tokens DROP COLUMN refreshed_at, DROP COLUMN user_id, DROP COLUMN company_id;
DROP TABLE ghl_webhook_events;
DROP TABLE ghl_oauth_states;
