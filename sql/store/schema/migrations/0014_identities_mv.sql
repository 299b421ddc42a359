-- identities_mv records every anonymous id and user id seen together in an event.
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.identities_mv TO {db}.identities AS
SELECT
    site_id,
    anon_id,
    user_id,
    minState(toUInt32(ts)) AS first_seen_state,
    maxState(toUInt32(ts)) AS last_seen_state,
    uniqExactState(event_id) AS links_state
FROM {db}.events
WHERE anon_id != '' AND user_id != '' AND anon_id != user_id
GROUP BY site_id, anon_id, user_id;
