-- morningdata: the morning's new events for TestDashboardTiming's third pass: $events events
-- on $day (the last day of the period the dashboard shows), from 08:00 on, 4 a visitor:
-- a landing, a product view, a page and, for a tenth of them, a purchase. Half the visitors
-- are people of benchdata.sql coming back (anon_id a<p>), half are new (anon_id m<n>); each
-- visit is a new session. Replace $db, $site, $events and $day (toDateTime(...)) to run it by hand.
INSERT INTO $db.events (event_id, site_id, ts, received_at, type, name, anon_id, user_id,
    session_id, path, channel, source, campaign, device, country, is_bot, revenue)
SELECT
    concat('m', toString(number)) AS event_id,
    $site AS site_id,
    toDateTime(toUInt32($day) + 28800 + v * 60 + k * 13) AS ts,
    ts AS received_at,
    if(k = 3, 'event', 'pageview') AS type,
    if(k = 3, 'purchase', '') AS name,
    if(v % 2 = 0, concat('a', toString(v * 997)), concat('m', toString(v))) AS anon_id,
    '' AS user_id,
    concat('ms', toString(v)) AS session_id,
    multiIf(k = 0, '/', k = 1, concat('/product/', toString(v % 50)), '/blog') AS path,
    ['Organic Search', 'Paid Search', 'Direct', 'Organic Social'][v % 4 + 1] AS channel,
    ['google', 'google', '(direct)', 't.me'][v % 4 + 1] AS source,
    '' AS campaign,
    if(v % 3 = 0, 'mobile', 'desktop') AS device,
    ['RU', 'KZ', 'DE'][v % 3 + 1] AS country,
    toUInt8(0) AS is_bot,
    if(k = 3, toFloat64(1000 + v), 0) AS revenue
FROM
(
    SELECT number, intDiv(number, 4) AS v, number % 4 AS k
    FROM system.numbers
    LIMIT $events
)
WHERE k < 3 OR v % 10 = 0
