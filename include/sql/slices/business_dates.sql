-- The dates of business date :business_date's slice for a fact kept by business date (production
-- orders, the genealogy) or by snapshot date (AR aging, MB52 counts): D itself. Used by the build
-- (its business_dates) and by the facts gate (the rows it judges for D), as every slice file is.
SELECT :business_date
