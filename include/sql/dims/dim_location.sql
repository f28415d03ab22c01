-- dims.dim_location: plant / storage location pairs moved in the files of business date
-- %(business_date)s ('#' = posted at plant level), named and typed from site.yaml (%(plants)s).
-- A plant missing from site.yaml is an inferred member of type 'other'.
WITH plants AS (
    SELECT key AS plant, value ->> 'name' AS plant_name, value ->> 'type' AS plant_type
      FROM jsonb_each(%(plants)s::jsonb)
)
INSERT INTO dims.dim_location AS l (plant, storage_location, plant_name, plant_type, is_inferred)
SELECT DISTINCT r.plant, coalesce(r.storage_location, '#'), p.plant_name, coalesce(p.plant_type, 'other'),
       p.plant IS NULL
  FROM raw.raw_mb51 r
  LEFT JOIN plants p ON p.plant = r.plant
 WHERE r.business_date = %(business_date)s
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
