-- delete_events: the events of @site with one of the erased user ids, and the anonymous
-- events (no user id) of the erased anonymous ids. Another user's events on a shared
-- device stay.
ALTER TABLE $db.events DELETE
WHERE site_id = @site AND (has(@users, user_id) OR (user_id = '' AND has(@anons, anon_id)))
