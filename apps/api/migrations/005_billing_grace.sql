-- Up Migration
-- past_due keeps the paid tier for a grace period: the end of that period is stored when the subscription becomes
-- past_due, so "what tier is this location on" stays a plain read with no configuration in the query.
ALTER TABLE stripe_customers ADD COLUMN grace_until timestamptz;

-- Down Migration
ALTER TABLE stripe_customers DROP COLUMN grace_until;
