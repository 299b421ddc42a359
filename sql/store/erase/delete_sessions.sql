-- delete_sessions: the sessions that held an erased event (the ids sessions.sql found),
-- whole: a session shared with another user's events loses its summary, not their events.
ALTER TABLE $db.session_aggregates DELETE
WHERE site_id = @site AND has(@sessions, session_id)
