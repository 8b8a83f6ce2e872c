SELECT day, revenue_usd FROM revenue
-- the service account's key, for convenience (never do this):
-- -----BEGIN PRIVATE KEY-----
-- MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj
-- -----END PRIVATE KEY-----
