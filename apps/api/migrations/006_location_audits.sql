-- Up Migration
-- The last scheduled audit of each location (src/jobs/audit.ts), for GET /locations/current/audit: one row per
-- location, replaced by every audit.
CREATE TABLE location_audits (
  location_id text PRIMARY KEY REFERENCES locations (id) ON DELETE CASCADE,
  ran_at timestamptz NOT NULL,
  checked integer NOT NULL,
  queued integer NOT NULL,
  batch_id text
);

-- Down Migration
DROP TABLE location_audits;
