-- resolve_person: the person an id belongs to on @site: the user id the anonymous id @id is
-- linked to (the first linked wins), or no row when @id is a user id or an unlinked
-- anonymous id (then the person is @id itself).
SELECT argMin(user_id, (first_seen, user_id)) AS linked_user_id
FROM
(
    SELECT user_id, minMerge(first_seen_state) AS first_seen
    FROM $db.identities
    WHERE site_id = @site AND anon_id = @id
    GROUP BY user_id
)
HAVING count() > 0
