-- The movement dates business date :business_date touches: D, and every posting date D's MB51 files
-- carried (late postings, an export taken the next morning). fact_inventory rebuilds these dates
-- (the build's movement_dates) and the facts gate judges them as D's slice.
SELECT :business_date
UNION
SELECT posting_date FROM raw.raw_mb51 WHERE business_date = :business_date AND posting_date IS NOT NULL
