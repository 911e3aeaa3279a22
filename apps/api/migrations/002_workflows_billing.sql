-- Up Migration
-- Workflow definitions as imported from GHL (or uploaded); one row per version.
CREATE TABLE workflow_definitions (
  location_id text NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
  workflow_id text NOT NULL,
  version integer NOT NULL CHECK (version >= 0),
  name text,
  source text NOT NULL DEFAULT 'ghl' CHECK (source IN ('ghl', 'import')),
  definition jsonb NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (location_id, workflow_id, version)
);

CREATE TABLE analysis_results (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  location_id text NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
  workflow_id text NOT NULL,
  workflow_version integer NOT NULL,
  health_score integer NOT NULL,
  issues_found integer NOT NULL,
  findings jsonb NOT NULL DEFAULT '[]'::jsonb,
  tier text NOT NULL CHECK (tier IN ('free', 'pro', 'enterprise')),
  analyzer_version text,
  duration_ms integer,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Uniqueness of location_id and customer_id comes with the named indexes of 003.
CREATE TABLE stripe_customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  location_id text NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
  customer_id text NOT NULL,
  subscription_id text,
  price_id text,
  status text NOT NULL DEFAULT 'none'
    CHECK (status IN ('none', 'incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')),
  tier text NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro', 'enterprise')),
  current_period_end timestamptz,
  -- Stripe does not guarantee order: the `created` of the newest event applied, so stale events are ignored.
  last_event_created_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Stripe delivers at least once: the event id is the deduplication key.
CREATE TABLE stripe_events (
  id text PRIMARY KEY,
  event_type text NOT NULL,
  created_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  payload jsonb NOT NULL
);

-- Down Migration
DROP TABLE stripe_events;
DROP TABLE stripe_customers;
DROP TABLE analysis_results;
DROP TABLE workflow_definitions;
