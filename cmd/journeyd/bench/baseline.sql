-- baseline: the plain grouped pass every report of the benchmark is a ratio to: every event
-- of the site grouped by visitor, each visitor's times gathered in an array.
-- Replace $db and $site ('bench') to run it by hand.
SELECT count(), sum(length(a)) FROM (SELECT anon_id, groupArray(ts) AS a FROM $db.events WHERE site_id = $site GROUP BY anon_id)
