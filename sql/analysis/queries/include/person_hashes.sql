-- person_hashes: included right after a subquery aliased lhs that has the column
-- person_key = cityHash64(user id where known, else anonymous id), where a query says
-- `-- include: person_hashes.sql` (include/touches.sql gives one). It adds person_id, the
-- hash of the user id that person_key resolves to, as include/persons.sql resolves ids
-- (person_links_v: the user id an anonymous id was first linked to, or the user id an
-- alias merged the user into), or 0 when it resolves to none; the query's person is
-- if(person_id != 0, person_id, person_key), a 64-bit hash of the person id.
ANY LEFT JOIN
(
    SELECT cityHash64(id) AS person_key, cityHash64(linked) AS person_id
    FROM
    (
        SELECT id, person_id AS linked
        FROM $db.person_links_v
        WHERE site_id = $site AND person_id != ''
    )
) AS rhs USING person_key
