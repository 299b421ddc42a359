-- person_links: the person of every id of the site that resolves to one, as 64-bit hashes:
-- person_key = cityHash64 of an anonymous id or user id, person_id = cityHash64 of the user
-- id it resolves to (person_links_v: the user id an anonymous id was first linked to, or
-- the user id an alias merged the user into). include/person_hashes.sql joins the same
-- rows; journeyd reads them once to resolve the touch groups of touch_rows.sql. An id that
-- resolves to none is its own person.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
SELECT cityHash64(id) AS person_key, cityHash64(linked) AS person_id
FROM
(
    SELECT id, person_id AS linked
    FROM $db.person_links_v
    WHERE site_id = $site AND person_id != ''
)
