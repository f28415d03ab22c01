-- negative_stock (data alert): a stock position (material, plant, storage location, unit; the sum of
-- its net movements up to the as-of date) below zero. Stock cannot be negative: movements are missing
-- (an opening balance, a receipt not yet exported) or posted to the wrong place.
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'negative_stock',
       f.material_code || '@' || f.plant || '/' || f.storage_location || '/' || f.unit,
       'warning',
       sum(f.net_qty),
       0,
       format('%%s at plant %%s, storage location %%s: stock %%s %%s', f.material_code, f.plant,
              f.storage_location, sum(f.net_qty), f.unit),
       jsonb_build_object('material', f.material_code, 'plant', f.plant, 'storage_location', f.storage_location,
                          'unit', f.unit, 'stock', sum(f.net_qty))
  FROM facts.fact_inventory f
 WHERE f.movement_date <= %(as_of)s::date
 GROUP BY f.material_code, f.plant, f.storage_location, f.unit
HAVING sum(f.net_qty) < 0;
