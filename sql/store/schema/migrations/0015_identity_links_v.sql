-- identity_links_v: the user id each linked anonymous id belongs to: the first linked (by
-- event time; the smaller user id on a tie), and how many user ids claimed it (more than one
-- means a conflict, see identities_v).
CREATE VIEW IF NOT EXISTS {db}.identity_links_v AS
SELECT
    site_id,
    anon_id,
    argMin(user_id, (first_seen, user_id)) AS linked_user_id,
    min(first_seen) AS linked_at,
    count() AS claimants
FROM
(
    SELECT site_id, anon_id, user_id, toDateTime(minMerge(first_seen_state)) AS first_seen
    FROM {db}.identities
    GROUP BY site_id, anon_id, user_id
)
GROUP BY site_id, anon_id;
