-- negative_stock (data alert): a stock position (material, plant, storage location, unit) whose stock
-- on hand as of the as-of date (facts.stock_on_hand: the plant's latest MB52 count plus the movements
-- after it) is below zero. Stock cannot be negative: a movement is missing (a receipt not exported
-- yet) or was posted to the wrong place. Positions without a baseline (the plant never counted) are
-- not judged: their sum of movements is a change, not a stock.
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'negative_stock',
       k.material_code || '@' || k.plant || '/' || k.storage_location || '/' || k.unit,
       'warning',
       k.on_hand_qty,
       0,
       format('%%s at plant %%s, storage location %%s: stock %%s %%s (counted %%s %%s on %%s, movements since %%s)',
              k.material_code, k.plant, k.storage_location, k.on_hand_qty, k.unit, k.baseline_qty, k.unit,
              k.baseline_date, k.movement_qty),
       jsonb_build_object('material', k.material_code, 'plant', k.plant, 'storage_location', k.storage_location,
                          'unit', k.unit, 'stock', k.on_hand_qty, 'baseline_date', k.baseline_date,
                          'baseline_qty', k.baseline_qty, 'movement_qty', k.movement_qty)
  FROM facts.stock_on_hand(%(as_of)s::date) k
 WHERE k.on_hand_qty < 0;
