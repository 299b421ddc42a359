-- persons: included right after a subquery of events aliased lhs that has the column
-- person_key = if(user_id != '', user_id, anon_id), where a query says
-- `-- include: persons.sql`. It adds person_id, the user id that person_key resolves to
-- (person_links_v: the user id an anonymous id was first linked to, or the user id an alias
-- merged the user into), or '' when it resolves to none; the query's person is
-- if(person_id != '', person_id, person_key). A person's anonymous browsing before sign-up
-- belongs to them, and an alias between two user ids makes them one person.
ANY LEFT JOIN
(
    SELECT id AS person_key, person_id
    FROM $db.person_links_v
    WHERE site_id = $site
) AS rhs USING person_key
