-- count: what erasing @users and @anons on @site deletes: the events with one of the user
-- ids, the anonymous events (no user id) of one of the anonymous ids, and the identity links
-- of the user ids (sessions.sql finds the sessions).
SELECT
    (SELECT count() FROM $db.events
        WHERE site_id = @site AND (has(@users, user_id) OR (user_id = '' AND has(@anons, anon_id)))) AS events,
    (SELECT count() FROM $db.identities
        WHERE site_id = @site AND has(@users, user_id)) AS links
