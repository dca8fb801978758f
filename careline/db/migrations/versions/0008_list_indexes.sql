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
