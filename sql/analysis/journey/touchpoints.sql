-- touchpoints: every event of person @person on site @site, in event-time order, each once
-- (an event stored twice comes back once). A person's events are those with their user id,
-- those of every user id an alias merged into them, and the anonymous events (without a
-- user id) of every anonymous id linked to them first, on any device, before or after the
-- link; or, for a person never identified, the events of the anonymous id @person: the
-- events whose if(user_id != '', user_id, anon_id) resolves to @person in person_links_v,
-- as the reports resolve them (sql/analysis/queries/include/persons.sql). is_conversion is the default conversion of every report
-- (goal.DefaultConversions) and of the session_aggregates table (keep the three in step:
-- sql/store/schema/migrations/0022_sessions_visits.sql).
-- GLOBAL IN: on a cluster the subqueries read Distributed tables once, on this node; on a
-- single server it is a plain IN.
SELECT
    toUInt64(ts) * 1000 + ts_ms AS ts_unix_ms,
    event_id, type, name, session_id, anon_id, user_id, host, path, referrer_host,
    channel, source, medium, campaign, click_id_type, device, country, toFloat64(revenue) AS revenue_value,
    currency,
    toUInt8(name IN ('purchase', 'order_paid', 'Order Completed')) AS is_conversion
FROM $db.events
WHERE site_id = @site
    AND (if(user_id != '', user_id, anon_id) = @person
        OR if(user_id != '', user_id, anon_id) GLOBAL IN
        (
            SELECT id FROM $db.person_links_v WHERE site_id = @site AND person_id = @person
        ))
ORDER BY ts_unix_ms, event_id
LIMIT 1 BY event_id
