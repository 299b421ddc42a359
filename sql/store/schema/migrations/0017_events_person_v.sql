-- events_person_v: every event with its person_id: the event's own user id, else the user id
-- its anonymous id is linked to (before or after the link, on any device), else the
-- anonymous id. For one person's journey, sql/analysis/journey runs a narrower query.
CREATE VIEW IF NOT EXISTS {db}.events_person_v AS
SELECT
    events.*,
    if(user_id != '', user_id, if(linked_user_id != '', linked_user_id, anon_id)) AS person_id
FROM {db}.events
ANY LEFT JOIN
(
    SELECT site_id, anon_id, linked_user_id
    FROM {db}.identity_links_v
) AS rhs USING (site_id, anon_id);
