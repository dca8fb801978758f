-- Alerts (careline/monitoring/alerts.py, docs/operations.md "Alerts"). Statements are
-- separated by a line holding only "--;".
--
-- One row per alert raised: a rule (a closed word), what it is about (a part's name for
-- part_down, else empty), the organisation it concerns (NULL: the whole instance), the
-- value that raised it and the threshold. Cleared alerts stay as history for
-- alerts_keep_days. Numbers and closed words only: no person, conversation or text.
CREATE TABLE alerts (
  id uuid PRIMARY KEY,
  tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
  rule text NOT NULL CHECK (rule ~ '^[a-z][a-z0-9_]{1,39}$'),
  subject text NOT NULL DEFAULT '' CHECK (subject ~ '^[a-z0-9_]{0,40}$'),
  state text NOT NULL CHECK (state IN ('raised', 'cleared')),
  raised_at timestamptz NOT NULL,
  cleared_at timestamptz,
  value double precision NOT NULL,
  threshold double precision NOT NULL,
  CHECK ((state = 'cleared') = (cleared_at IS NOT NULL))
)
--;
-- At most one open alert per rule, subject and organisation (or the instance).
CREATE UNIQUE INDEX alerts_open ON alerts
  (rule, subject, coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid))
  WHERE state = 'raised'
--;
CREATE INDEX alerts_tenant_raised ON alerts (tenant_id, raised_at DESC, id DESC)
--;
CREATE INDEX alerts_cleared ON alerts (cleared_at) WHERE state = 'cleared'
--;
-- The evaluator's running counts (the hysteresis): how many evaluations in a row a
-- rule's raise condition has held (`holding`, while no alert is open) or its value has
-- stayed past the clear threshold (`easing`, while one is). Kept in the database so
-- whichever node evaluates next goes on counting.
CREATE TABLE alert_streaks (
  tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
  rule text NOT NULL CHECK (rule ~ '^[a-z][a-z0-9_]{1,39}$'),
  subject text NOT NULL DEFAULT '' CHECK (subject ~ '^[a-z0-9_]{0,40}$'),
  holding int NOT NULL DEFAULT 0 CHECK (holding >= 0),
  easing int NOT NULL DEFAULT 0 CHECK (easing >= 0),
  updated_at timestamptz NOT NULL
)
--;
CREATE UNIQUE INDEX alert_streaks_key ON alert_streaks
  (rule, subject, coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid))
--;
ALTER TABLE alerts ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE alerts FORCE ROW LEVEL SECURITY
--;
-- Admins see their organisation's alerts; careline sees them all, and within an
-- organisation the instance-wide ones too, which is how its admins are shown those
-- (careline/monitoring/alerts.py list_alerts, after checking they are admins).
CREATE POLICY alerts_read ON alerts FOR SELECT TO careline_app
  USING (
    cl_system_for(tenant_id)
    OR cl_is_admin_in(tenant_id)
    OR (tenant_id IS NULL AND cl_role() = 'system')
  )
--;
-- Only the evaluator (the system, no organisation) raises, clears and prunes.
CREATE POLICY alerts_write ON alerts FOR ALL TO careline_app
  USING (cl_role() = 'system' AND cl_tenant_id() IS NULL)
  WITH CHECK (cl_role() = 'system' AND cl_tenant_id() IS NULL)
--;
GRANT SELECT, INSERT, UPDATE, DELETE ON alerts TO careline_app
--;
ALTER TABLE alert_streaks ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE alert_streaks FORCE ROW LEVEL SECURITY
--;
CREATE POLICY alert_streaks_system ON alert_streaks FOR ALL TO careline_app
  USING (cl_role() = 'system' AND cl_tenant_id() IS NULL)
  WITH CHECK (cl_role() = 'system' AND cl_tenant_id() IS NULL)
--;
GRANT SELECT, INSERT, UPDATE, DELETE ON alert_streaks TO careline_app
