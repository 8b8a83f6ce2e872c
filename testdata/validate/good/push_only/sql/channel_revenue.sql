SELECT toDate(touched_at) AS day, channel, sum(revenue_usd) AS revenue_usd
FROM hs.touchpoints
WHERE customer = 'globex'
  AND touched_at >= :window_start AND touched_at < :window_end
GROUP BY day, channel
