-- The monitoring dashboard (careline/monitoring/, docs/operations.md#dashboard).
-- Statements are separated by a line holding only "--;".
--
-- Operators watch the whole instance (every organisation's counts, never their data).
-- A table of its own rather than a column of accounts: an account may update its own
-- row (accounts_update), and nobody may make themselves an operator. Only careline
-- itself (the `careline operator` command, the demo) adds or removes one.
CREATE TABLE operators (
  account_id uuid PRIMARY KEY REFERENCES accounts(id),
  added_at timestamptz NOT NULL DEFAULT now()
)
--;
ALTER TABLE operators ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE operators FORCE ROW LEVEL SECURITY
--;
-- Each account sees whether it is one; careline itself sees them all.
CREATE POLICY operators_read ON operators FOR SELECT TO careline_app
  USING (cl_role() = 'system' OR account_id = cl_account_id())
--;
CREATE POLICY operators_write ON operators FOR ALL TO careline_app
  USING (cl_role() = 'system' AND cl_tenant_id() IS NULL)
  WITH CHECK (cl_role() = 'system' AND cl_tenant_id() IS NULL)
--;
GRANT SELECT, INSERT, DELETE ON operators TO careline_app
--;
-- Messages of the last hour per organisation (per minute, and the conversations with
-- one in the last 5 minutes), every monitor_interval_seconds while someone watches.
CREATE INDEX messages_tenant_created ON messages (tenant_id, created_at)
