-- benchdata: fills the events table with $events synthetic events for the report benchmark:
-- people of 8 events each over 25 days (landing, product view, cart, checkout, purchase,
-- later page views and an email open), with the shop scenario's rates (checkout broken on
-- mobile). Only the columns the reports read are named; the others take their defaults.
-- Replace $db, $site ('bench'), $events (10000000) and $start (toDateTime(...)) to run it by hand.
INSERT INTO $db.events (event_id, site_id, ts, received_at, type, name, anon_id, user_id,
    session_id, path, channel, source, campaign, device, country, is_bot, revenue)
SELECT
    concat('b', toString(number)) AS event_id,
    $site AS site_id,
    toDateTime(toUInt32($start) + cityHash64(p) % 2160000 + k * 97 + if(k >= 5, 86400, 0)) AS ts,
    ts AS received_at,
    multiIf(step = 'email', 'email_open', step IN ('add_to_cart', 'checkout', 'purchase'), 'event', 'pageview') AS type,
    multiIf(step = 'email', 'cart_reminder', step IN ('add_to_cart', 'checkout', 'purchase'), step, '') AS name,
    concat('a', toString(p)) AS anon_id,
    '' AS user_id,
    if(step = 'email', '', concat('s', toString(p), '-', toString(k >= 5))) AS session_id,
    multiIf(step = 'product', concat('/product/', toString(cityHash64(p) % 50)), step = 'landing', '/', step = 'email', '', '/blog') AS path,
    if(step = 'email', 'Email', ['Organic Search', 'Paid Search', 'Direct', 'Organic Social'][cityHash64(p, 9) % 4 + 1]) AS channel,
    ['google', 'google', '(direct)', 't.me'][cityHash64(p, 9) % 4 + 1] AS source,
    if(step = 'email', 'cart_reminder', '') AS campaign,
    if(cityHash64(p, 8) % 100 < 45, 'mobile', 'desktop') AS device,
    ['RU', 'KZ', 'DE'][cityHash64(p, 7) % 3 + 1] AS country,
    toUInt8(0) AS is_bot,
    if(step = 'purchase', toFloat64(1000 + cityHash64(p, 6) % 9000), 0) AS revenue
FROM
(
    SELECT
        number,
        intDiv(number, 8) AS p,
        number % 8 AS k,
        cityHash64(p, 1) % 100 < 80 AS product,
        product AND cityHash64(p, 2) % 100 < 50 AS cart,
        cart AND cityHash64(p, 3) % 100 < 70 AS checkout,
        checkout AND cityHash64(p, 4) % 100 < if(cityHash64(p, 8) % 100 < 45, 25, 85) AS purchase,
        multiIf(k = 0, 'landing', k = 1 AND product, 'product', k = 2 AND cart, 'add_to_cart',
            k = 3 AND checkout, 'checkout', k = 4 AND purchase, 'purchase',
            k = 5 AND cityHash64(p, 5) % 100 < 20, 'email', 'page') AS step
    FROM system.numbers
    LIMIT $events
)
