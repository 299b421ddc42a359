-- person_links_v: the person each id of a site belongs to, for every id that identities
-- knows: id is an anonymous id (or, after an alias, a former user id) and person_id the user
-- id it resolves to. An anonymous id resolves to the user id it was first linked to
-- (identity_links_v); when that user id was itself aliased to another one (an alias whose
-- previousId is a user id, DESIGN §6), it resolves on to that one, so the two users are one
-- person. One hop is followed: an alias of an alias is not chained further.
--
-- Reports resolve a person as the person_id of if(user_id != '', user_id, anon_id) when it
-- has one, else that id itself (sql/analysis/queries/include/persons.sql).
CREATE VIEW IF NOT EXISTS {db}.person_links_v AS
SELECT
    site_id,
    anon_id AS id,
    if(alias_user_id != '', alias_user_id, linked_user_id) AS person_id
FROM
(
    SELECT site_id, anon_id, linked_user_id, linked_user_id AS link_to
    FROM {db}.identity_links_v
) AS lhs
ANY LEFT JOIN
(
    SELECT site_id, anon_id AS link_to, linked_user_id AS alias_user_id
    FROM {db}.identity_links_v
) AS rhs USING (site_id, link_to);

-- events_person_v resolves people the same way: person_id is the person of
-- person_key = if(user_id != '', user_id, anon_id), an alias between user ids followed.
DROP TABLE IF EXISTS {db}.events_person_v;

CREATE VIEW IF NOT EXISTS {db}.events_person_v AS
SELECT
    events.*,
    if(linked_person != '', linked_person, person_key) AS person_id
FROM
(
    SELECT *, if(user_id != '', user_id, anon_id) AS person_key
    FROM {db}.events
) AS events
ANY LEFT JOIN
(
    SELECT site_id, id AS person_key, person_id AS linked_person
    FROM {db}.person_links_v
) AS rhs USING (site_id, person_key);
