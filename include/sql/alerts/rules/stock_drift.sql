-- stock_drift (data alert, warning): the latest MB52 count of a plant (on or before the as-of date)
-- differs from what its previous count plus the MB51 movements between them expect
-- (marts.view_stock_reconciliation), by more than %(stock_drift_tolerance_qty)s in the position's unit
-- and more than %(stock_drift_tolerance_pct)s %% of the expected stock (site.yaml stock_drift). Either
-- movements are missing from the exports (a day not delivered, a movement type posted outside the
-- window) or the count found what the books do not know: the stock controller compares MB51 and MB52
-- for the position and posts the correction. Clears when the plant's next count agrees.
WITH latest AS (
    SELECT plant, max(snapshot_date) AS snapshot_date
      FROM marts.view_stock_reconciliation
     WHERE snapshot_date <= %(as_of)s::date
     GROUP BY plant
)
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'stock_drift',
       r.material_code || '@' || r.plant || '/' || r.storage_location || '/' || r.unit,
       'warning',
       r.difference_qty,
       %(stock_drift_tolerance_qty)s,
       format('%%s at plant %%s, storage location %%s: counted %%s %%s on %%s, expected %%s (count of %%s %%s '
              'plus movements %%s): difference %%s',
              r.material_code, r.plant, r.storage_location, r.counted_qty, r.unit, r.snapshot_date,
              r.expected_qty, r.previous_snapshot_date, r.previous_qty, r.movement_qty, r.difference_qty),
       jsonb_build_object('material', r.material_code, 'plant', r.plant, 'storage_location', r.storage_location,
                          'unit', r.unit, 'snapshot_date', r.snapshot_date,
                          'previous_snapshot_date', r.previous_snapshot_date, 'previous_qty', r.previous_qty,
                          'movement_qty', r.movement_qty, 'expected_qty', r.expected_qty,
                          'counted_qty', r.counted_qty, 'difference_qty', r.difference_qty)
  FROM marts.view_stock_reconciliation r
  JOIN latest l USING (plant, snapshot_date)
 WHERE abs(r.difference_qty) > %(stock_drift_tolerance_qty)s
   AND abs(r.difference_qty) > abs(r.expected_qty) * %(stock_drift_tolerance_pct)s / 100;
