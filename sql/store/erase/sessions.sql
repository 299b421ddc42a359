-- sessions: the ids of the sessions that hold an event erasure deletes.
SELECT arraySort(groupUniqArray(session_id))
FROM $db.events
WHERE site_id = @site AND session_id != '' AND (has(@users, user_id) OR (user_id = '' AND has(@anons, anon_id)))
