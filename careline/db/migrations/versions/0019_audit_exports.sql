-- Audit exports (careline/audit/exports.py, docs/audit.md "The audit page"). Statements
-- are separated by a line holding only "--;".
--
-- An admin asks for an export of the audit with filters (ids and times only); a job
-- writes it in parts, each encrypted under the organisation's data key (AAD:
-- "audit-export:<id>:<n>"), and counts its progress in `done` of `total`. Exports are
-- removed `expires_at` (a day after they were asked for) by a periodic job.
CREATE TABLE audit_exports (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  requested_by uuid NOT NULL REFERENCES accounts(id),
  format text NOT NULL CHECK (format IN ('csv', 'json')),
  filters jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('queued', 'running', 'done')),
  total int NOT NULL CHECK (total >= 0),
  done int NOT NULL DEFAULT 0 CHECK (done >= 0),
  -- The last event written (newest first), so a job run again goes on from there.
  last_at timestamptz,
  last_id uuid,
  parts int NOT NULL DEFAULT 0,
  bytes bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  finished_at timestamptz,
  expires_at timestamptz NOT NULL
)
--;
CREATE INDEX audit_exports_tenant ON audit_exports (tenant_id, created_at DESC)
--;
CREATE INDEX audit_exports_expiry ON audit_exports (expires_at)
--;
CREATE TABLE audit_export_parts (
  export_id uuid NOT NULL REFERENCES audit_exports(id) ON DELETE CASCADE,
  n int NOT NULL CHECK (n >= 0),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  ct bytea NOT NULL,
  key_version int NOT NULL,
  PRIMARY KEY (export_id, n)
)
--;
ALTER TABLE audit_exports ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE audit_exports FORCE ROW LEVEL SECURITY
--;
-- Admins of the organisation see its exports and ask for new ones, as themselves; the
-- job (careline itself) writes them and removes them.
CREATE POLICY audit_exports_read ON audit_exports FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
CREATE POLICY audit_exports_insert ON audit_exports FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id)
              OR (cl_is_admin_in(tenant_id) AND requested_by = cl_account_id()))
--;
CREATE POLICY audit_exports_update ON audit_exports FOR UPDATE TO careline_app
  USING (cl_system_for(tenant_id)) WITH CHECK (cl_system_for(tenant_id))
--;
CREATE POLICY audit_exports_delete ON audit_exports FOR DELETE TO careline_app
  USING (cl_system_for(tenant_id))
--;
ALTER TABLE audit_export_parts ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE audit_export_parts FORCE ROW LEVEL SECURITY
--;
CREATE POLICY audit_export_parts_read ON audit_export_parts FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
CREATE POLICY audit_export_parts_write ON audit_export_parts FOR ALL TO careline_app
  USING (cl_system_for(tenant_id)) WITH CHECK (cl_system_for(tenant_id))
--;
GRANT SELECT, INSERT, UPDATE, DELETE ON audit_exports, audit_export_parts TO careline_app
