-- Every HockeyStack touchpoint for Acme, with attributed revenue.
SELECT
    touchpoint_id,
    contact_id,
    channel,
    campaign,
    touched_at,
    revenue_usd
FROM hs.touchpoints
WHERE customer = 'acme'
