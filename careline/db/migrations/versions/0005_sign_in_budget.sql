-- A budget of successful sign-ins per account and per address, kept in the rows of the
-- sign-in throttle (one mechanism, one locked step, in PostgreSQL so it holds across
-- nodes). Statements are separated by a line holding only "--;".
--
-- `spent` is a leaky bucket: each successful sign-in adds 1, and it drains at the key's
-- refill rate from `spent_at` on; a sign-in that would take it over the burst is refused.
ALTER TABLE login_throttle ADD COLUMN spent double precision NOT NULL DEFAULT 0
--;
ALTER TABLE login_throttle ADD COLUMN spent_at timestamptz NOT NULL DEFAULT now()
