-- Per-person file bytes per day (docs/limits.md#per-person-budgets). Statements are
-- separated by a line holding only "--;".
--
-- How many MiB of files one person may store in an organisation per 24 hours: the
-- organisation's choice, set by its admins. The count is of what is stored (attachments
-- rows), not an in-memory counter, so it survives a restart and holds across nodes.
ALTER TABLE tenants ADD COLUMN file_mb_per_person_per_day integer NOT NULL DEFAULT 1024
  CHECK (file_mb_per_person_per_day BETWEEN 1 AND 1048576)
--;
-- An organisation's admins change its settings (the service changes nothing else).
CREATE POLICY tenants_admin_update ON tenants FOR UPDATE TO careline_app
  USING (cl_is_admin_in(id)) WITH CHECK (cl_is_admin_in(id))
--;
-- The bytes the acting person stored in the acting organisation in the last 24 hours,
-- quarantined files included (they were stored). SECURITY DEFINER like
-- cl_tenant_file_bytes: files in conversations the person has since left still count.
CREATE FUNCTION cl_my_file_bytes_today() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS
$$ SELECT coalesce(sum(size), 0)::bigint FROM attachments
   WHERE tenant_id = cl_tenant_id() AND uploader_id = cl_account_id()
     AND created_at > now() - interval '24 hours' $$
--;
ALTER FUNCTION cl_my_file_bytes_today() OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_my_file_bytes_today() FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_my_file_bytes_today() TO careline_app
--;
CREATE INDEX attachments_uploader ON attachments (tenant_id, uploader_id, created_at)
