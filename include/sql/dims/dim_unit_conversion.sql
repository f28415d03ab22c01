-- dims.dim_unit_conversion: kg per unit of each material and unit the files of business date
-- %(business_dates)s mention, from net weights (weight units convert to kg by site.yaml,
-- %(weight_units_kg)s):
--   * units that are weights (KG, G, TO) get their fixed factor;
--   * a material and sales unit billed in D's files: sum(net weight kg) / sum(billing qty) over its
--     non-cancelled lines of its LATEST billing date (that date is never before D's own billing
--     dates, so only those partitions are read: the cost follows the day, not the history);
--   * a material and unit only delivered: the same from its latest ZRSD004 delivery date, written
--     only while billing has not provided a figure.
WITH weights AS (
    SELECT key AS unit, (value #>> '{}')::numeric AS kg FROM jsonb_each(%(weight_units_kg)s::jsonb)
),
fixed AS (
    SELECT DISTINCT u.material, u.unit, w.kg AS kg_per_unit, 'weight unit' AS derived_from
      FROM (SELECT material, sales_unit AS unit FROM raw.raw_zrsd002
             WHERE business_date = ANY(%(business_dates)s::date[])
            UNION SELECT material, sales_unit FROM raw.raw_zrsd004
                   WHERE business_date = ANY(%(business_dates)s::date[])
            UNION SELECT material, unit_of_entry FROM raw.raw_mb51
                   WHERE business_date = ANY(%(business_dates)s::date[])) u
      JOIN weights w ON w.unit = u.unit
     WHERE u.material IS NOT NULL
),
weighed AS (
    -- Net weight (kg) and quantity per material, sales unit and date: billed lines, non-cancelled, of
    -- the latest billing dates; then delivered lines of materials and units no billing line weighs.
    SELECT 1 AS preference, 'zrsd002' AS report, r.material, r.sales_unit AS unit, r.billing_date AS on_date,
           r.net_weight * w.kg AS kg, r.billing_qty AS qty
      FROM raw.raw_zrsd002 r
      JOIN weights w ON w.unit = r.weight_unit
     WHERE r.billing_date >= (SELECT min(billing_date) FROM raw.raw_zrsd002
                               WHERE business_date = ANY(%(business_dates)s::date[]))
       AND (r.material, r.sales_unit) IN (SELECT material, sales_unit FROM raw.raw_zrsd002
                                           WHERE business_date = ANY(%(business_dates)s::date[]))
       AND r.billing_qty > 0 AND r.net_weight > 0 AND r.cancelled IS NULL AND r.doc_cancel IS NULL
    UNION ALL
    SELECT 2, 'zrsd004', r.material, r.sales_unit, r.delivery_date, r.net_weight * w.kg, r.delivery_qty
      FROM raw.raw_zrsd004 r
      JOIN weights w ON w.unit = r.weight_unit
     WHERE (r.material, r.sales_unit) IN (SELECT material, sales_unit FROM raw.raw_zrsd004
                                           WHERE business_date = ANY(%(business_dates)s::date[]))
       AND r.delivery_qty > 0 AND r.net_weight > 0
),
measured AS (
    -- One figure per material and unit: billing's when billing weighs it, from its latest date.
    SELECT DISTINCT ON (material, unit)
           material, unit, round(sum(kg) / nullif(sum(qty), 0), 6) AS kg_per_unit,
           report || ' net weight ' || on_date AS derived_from
      FROM weighed
     WHERE unit NOT IN (SELECT unit FROM weights)
     GROUP BY preference, report, material, unit, on_date
     ORDER BY material, unit, preference, on_date DESC
),
derived AS (
    SELECT material, unit, kg_per_unit, derived_from FROM fixed
    UNION ALL SELECT material, unit, kg_per_unit, derived_from FROM measured WHERE kg_per_unit > 0
)
INSERT INTO dims.dim_unit_conversion AS u (material_code, unit, kg_per_unit, derived_from)
SELECT material, unit, kg_per_unit, derived_from FROM derived
ON CONFLICT (material_code, unit) DO UPDATE
   SET kg_per_unit = excluded.kg_per_unit, derived_from = excluded.derived_from
 WHERE (u.kg_per_unit, u.derived_from) IS DISTINCT FROM (excluded.kg_per_unit, excluded.derived_from)
   AND (excluded.derived_from NOT LIKE 'zrsd004%%' OR u.derived_from LIKE 'zrsd004%%');
