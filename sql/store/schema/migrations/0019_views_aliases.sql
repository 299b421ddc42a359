-- identities_v and events_person_v again, for databases that ran 0016 and 0017 before they
-- named their joined subqueries (AS lhs, AS rhs): current ClickHouse releases refuse a
-- joined subquery without an alias (joined_subquery_requires_alias), so a database moved
-- from 18.16 to a current server needs the views recreated. New databases get the same
-- views from 0016 and 0017; here they are dropped and made again.
DROP TABLE IF EXISTS {db}.identities_v;

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

DROP TABLE IF EXISTS {db}.events_person_v;

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
