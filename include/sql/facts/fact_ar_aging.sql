-- facts.fact_ar_aging: the ZRFI005 snapshot of business dates %(business_dates)s (the file has no date
-- column; its snapshot date is the business date). Rebuilt whole for that date; other dates'
-- snapshots are history and are never touched. Bucket amounts are the open amounts of the Target
-- columns; collected_* are the Realization columns.
DELETE FROM facts.fact_ar_aging WHERE snapshot_date = ANY(%(business_dates)s::date[]);

INSERT INTO facts.fact_ar_aging (
    snapshot_date, customer_code, distribution_channel, salesman_code, currency, customer_group,
    days_1_30_amount, days_31_60_amount, days_61_90_amount, days_91_120_amount, days_121_180_amount,
    days_over_180_amount, total_amount, collected_not_due_amount, collected_1_90_amount,
    collected_91_180_amount, collected_over_180_amount, collected_total_amount)
SELECT r.snapshot_date, r.customer_code, coalesce(r.distribution_channel, '#'), coalesce(r.salesman_code, '#'),
       coalesce(r.currency, '#'), r.customer_group,
       coalesce(r.target_1_30_days, 0), coalesce(r.target_31_60_days, 0), coalesce(r.target_61_90_days, 0),
       coalesce(r.target_91_120_days, 0), coalesce(r.target_121_180_days, 0), coalesce(r.target_over_180_days, 0),
       coalesce(r.total_target, 0), coalesce(r.realization_not_due, 0),
       coalesce(r.realization_1_30_days, 0) + coalesce(r.realization_31_60_days, 0)
           + coalesce(r.realization_61_90_days, 0),
       coalesce(r.realization_91_120_days, 0) + coalesce(r.realization_121_180_days, 0),
       coalesce(r.realization_over_180_days, 0),
       coalesce(r.total_realization, 0)
  FROM raw.raw_zrfi005 r
 WHERE r.snapshot_date = ANY(%(business_dates)s::date[])
   AND r.superseded_on IS NULL;  -- a newer export of the snapshot lacked the line
