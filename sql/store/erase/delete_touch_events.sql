-- delete_touch_events: the copies in touch_events (migration 0027) of the events
-- delete_events.sql deletes, by the same condition; run before it, as the reports' store
-- expects a day's events to change last (sql/analysis/report/daystore.go).
ALTER TABLE $db.touch_events DELETE
WHERE site_id = @site AND (has(@users, user_id) OR (user_id = '' AND has(@anons, anon_id)))
