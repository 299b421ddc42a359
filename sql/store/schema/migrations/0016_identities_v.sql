-- identities_v: every link with its first and last sighting, the events that made it, and
-- conflict = 1 when another user id was linked to the anonymous id first (not applied).
CREATE VIEW IF NOT EXISTS {db}.identities_v AS
SELECT
    site_id,
    anon_id,
    user_id,
    first_seen,
    last_seen,
    links,
    toUInt8(user_id != linked_user_id) AS conflict
FROM
(
    SELECT
        site_id,
        anon_id,
        user_id,
        toDateTime(minMerge(first_seen_state)) AS first_seen,
        toDateTime(maxMerge(last_seen_state)) AS last_seen,
        uniqExactMerge(links_state) AS links
    FROM {db}.identities
    GROUP BY site_id, anon_id, user_id
) AS lhs
ANY LEFT JOIN
(
    SELECT site_id, anon_id, linked_user_id
    FROM {db}.identity_links_v
) AS rhs USING (site_id, anon_id);
