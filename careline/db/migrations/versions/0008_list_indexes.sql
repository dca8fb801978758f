-- Every list pages by keyset, and an index serves each page (docs/performance.md,
-- "Clinic scale: lists"). Statements are separated by a line holding only "--;".
--
-- Under forced RLS a condition of the query becomes an index condition only when it is
-- leakproof; anything else runs after the policy, as a filter. lower() is not
-- leakproof, so a cursor on (lower(display_name), account_id) was a filter: every page
-- of the member list read the organisation from its first name up to the cursor, and
-- walking it was quadratic. The sort key is therefore a plain column, the stored
-- lower() of the name, which the cursor compares with leakproof text and uuid
-- operators.
ALTER TABLE memberships ADD COLUMN name_key text GENERATED ALWAYS AS (lower(display_name)) STORED
--;
CREATE INDEX memberships_by_name ON memberships (tenant_id, name_key, account_id)
--;
CREATE INDEX memberships_by_role_name ON memberships (tenant_id, role, name_key, account_id)
--;
-- Care teams by staff member and guardians by client, in the lists' order (client, and
-- guardian). The primary keys serve the other orders; these replace the two-column
-- indexes, whose every use (policies, helpers) they also serve.
CREATE INDEX care_relationships_staff_client ON care_relationships (tenant_id, staff_id, client_id)
--;
DROP INDEX care_relationships_staff
--;
CREATE INDEX guardian_links_client_guardian ON guardian_links (tenant_id, client_id, guardian_id)
--;
DROP INDEX guardian_links_client
--;
-- Admins' list of quarantined files and of pending invitations, newest first.
CREATE INDEX attachments_quarantined ON attachments (tenant_id, created_at DESC, id DESC)
  WHERE state = 'quarantined'
--;
CREATE INDEX invitations_pending ON invitations (tenant_id, created_at DESC, id DESC)
  WHERE state = 'pending'
--;
-- The quarantine list walked its index only while the planner believed the read policy,
-- inlined, let through about 1 % of rows: then reading the whole remaining list into a
-- bitmap and sorting it looked cheaper than walking the index to fill a page (600
-- quarantined files: 1,087 buffers for one page). The same test as one opaque call is
-- estimated as such, and each page walks the index (about 3 buffers a file). Same rule
-- as before: members read their conversations' files that are theirs or attached and
-- available; admins read quarantined rows (never bytes or names). SECURITY DEFINER and
-- schema-qualified for the same reasons as cl_in_conversation (migration 0003).
CREATE FUNCTION cl_reads_attachment(tenant uuid, conv uuid, uploader uuid, st text, msg uuid)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER AS
$$ SELECT (public.cl_in_tenant(tenant) AND public.cl_in_conversation(conv)
           AND (uploader = public.cl_account_id() OR (st = 'available' AND msg IS NOT NULL)))
          OR (public.cl_is_admin_in(tenant) AND st = 'quarantined') $$
--;
ALTER FUNCTION cl_reads_attachment(uuid, uuid, uuid, text, uuid) OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_reads_attachment(uuid, uuid, uuid, text, uuid) FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_reads_attachment(uuid, uuid, uuid, text, uuid) TO careline_app
--;
ALTER POLICY attachments_read ON attachments
  USING (cl_system_for(tenant_id)
         OR cl_reads_attachment(tenant_id, conversation_id, uploader_id, state, message_id))
--;
-- The same estimate, for the directory and the care lists: inlined, "staff of this
-- organisation" is a chain of current_setting() comparisons priced at well under 1 %,
-- so once other organisations' rows make the tenant look small, the first page of
-- 7,000 members went back to reading them all and sorting (42,191 buffers). As one
-- opaque call it is priced as such (1/3) and every page walks the index. Same test:
-- cl_is_staff_in, which reads no table; SECURITY DEFINER only to keep it opaque.
CREATE FUNCTION cl_staff_reads(tenant uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER AS
$$ SELECT public.cl_is_staff_in(tenant) $$
--;
ALTER FUNCTION cl_staff_reads(uuid) OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_staff_reads(uuid) FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_staff_reads(uuid) TO careline_app
--;
ALTER POLICY memberships_read ON memberships
  USING (cl_system_for(tenant_id)
         OR cl_staff_reads(tenant_id)
         OR (cl_in_tenant(tenant_id) AND (account_id = cl_account_id()
                                          OR role IN ('admin', 'staff')
                                          OR account_id IN (SELECT cl_my_peers()))))
--;
ALTER POLICY guardian_links_read ON guardian_links
  USING (cl_system_for(tenant_id) OR cl_staff_reads(tenant_id)
         OR (cl_in_tenant(tenant_id) AND cl_account_id() IN (guardian_id, client_id)))
--;
ALTER POLICY care_relationships_read ON care_relationships
  USING (cl_system_for(tenant_id) OR cl_staff_reads(tenant_id)
         OR (cl_in_tenant(tenant_id) AND (client_id = cl_account_id()
             OR client_id IN (SELECT g.client_id FROM guardian_links g WHERE g.guardian_id = cl_account_id()))))
