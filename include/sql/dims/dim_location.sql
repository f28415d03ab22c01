-- dims.dim_location: plant / storage location pairs moved in the MB51 files of business date
-- %(business_dates)s ('#' = posted at plant level) or counted in its MB52 files, plus the plants of its
-- production orders and stock transport orders (at plant level), named and typed from site.yaml
-- (%(plants)s). A plant missing from site.yaml is an inferred member of type 'other'.
WITH plants AS (
    SELECT key AS plant, value ->> 'name' AS plant_name, value ->> 'type' AS plant_type
      FROM jsonb_each(%(plants)s::jsonb)
),
touched AS (
    SELECT plant, coalesce(storage_location, '#') AS storage_location
      FROM raw.raw_mb51 WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT plant, '#' FROM raw.raw_mb51 WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT plant, '#' FROM raw.raw_cooispi WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT unnest(ARRAY[suppl_plant, dest_plant]), '#' FROM raw.raw_zrmm024
           WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT plant, coalesce(storage_location, '#') FROM raw.raw_mb52
           WHERE business_date = ANY(%(business_dates)s::date[])
    -- every line the inventory fact rebuilds for these dates reads, whichever date's file delivered it
    UNION SELECT plant, coalesce(storage_location, '#') FROM raw.raw_mb51
           WHERE posting_date = ANY(%(movement_dates)s::date[])
)
INSERT INTO dims.dim_location AS l (plant, storage_location, plant_name, plant_type, is_inferred)
SELECT t.plant, t.storage_location, p.plant_name, coalesce(p.plant_type, 'other'), p.plant IS NULL
  FROM touched t
  LEFT JOIN plants p ON p.plant = t.plant
 WHERE t.plant IS NOT NULL
ON CONFLICT (plant, storage_location) DO NOTHING;

-- Configuration edits reach every location of the plant.
WITH plants AS (
    SELECT key AS plant, value ->> 'name' AS plant_name, value ->> 'type' AS plant_type
      FROM jsonb_each(%(plants)s::jsonb)
)
UPDATE dims.dim_location l
   SET plant_name = p.plant_name, plant_type = p.plant_type, is_inferred = false
  FROM plants p
 WHERE p.plant = l.plant
   AND (l.plant_name, l.plant_type, l.is_inferred) IS DISTINCT FROM (p.plant_name, p.plant_type, false);
