-- The billing dates business date :business_date touches: D, every billing date D's ZRSD002 files
-- carried (back-dated invoices), and every billing date they moved a line away from (an export that
-- corrected a line's billing date leaves the old date with one line fewer). fact_billing rebuilds
-- these dates (the build's billing_dates) and the facts gate judges them as D's slice.
SELECT :business_date
UNION
SELECT billing_date FROM raw.raw_zrsd002 WHERE business_date = :business_date AND billing_date IS NOT NULL
UNION
SELECT previous_billing_date FROM raw.raw_zrsd002_line
 WHERE business_date = :business_date AND previous_billing_date IS NOT NULL
