-- CRM contacts with their account, one row per contact version.
SELECT
    c.CONTACT_ID,
    c.EMAIL,
    c.FIRST_NAME,
    c.LAST_NAME,
    a.NAME                           AS ACCOUNT_NAME,
    c.CUSTOM:plan::string            AS PLAN,
    c.LIFECYCLE_STAGE,
    c.CREATED_AT,
    c.UPDATED_AT
FROM ACME.CRM.CONTACTS c
LEFT JOIN ACME.CRM.ACCOUNTS a ON a.ACCOUNT_ID = c.ACCOUNT_ID
WHERE c.UPDATED_AT >= :window_start
  AND c.UPDATED_AT <  :window_end
