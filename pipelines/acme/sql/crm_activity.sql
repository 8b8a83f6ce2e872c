-- Activity logged against contacts: calls, emails, meetings and more.
SELECT
    ACTIVITY_ID,
    CONTACT_ID,
    LOWER(TYPE)   AS ACTIVITY_TYPE,
    SUBJECT,
    ACTIVITY_AT
FROM ACME.CRM.ACTIVITIES
WHERE ACTIVITY_AT >= :window_start
  AND ACTIVITY_AT <  :window_end
