-- facts.fact_inventory for the posting dates %(movement_dates)s: the business date itself and every
-- posting date its MB51 files carried (late postings). Each date is rebuilt whole from all raw
-- MB51 lines posted on it, so the result does not depend on which file delivered them or when.
-- Sign rule: a movement type with a configured direction gets |qty| * direction (reversals carry
-- the opposite direction of what they reverse); transfers keep the sign of their line.
DELETE FROM facts.fact_inventory WHERE movement_date = ANY(%(movement_dates)s::date[]);

INSERT INTO facts.fact_inventory (
    movement_date, material_code, plant, storage_location, unit, receipt_qty, production_issue_qty,
    delivery_qty, transfer_qty, other_qty, reversal_qty, net_qty, movement_count)
SELECT r.posting_date,
       r.material,
       r.plant,
       coalesce(r.storage_location, '#'),
       r.unit_of_entry,
       coalesce(sum(q.signed_qty) FILTER (WHERE mt.category = 'receipt'), 0),
       coalesce(sum(q.signed_qty) FILTER (WHERE mt.category = 'production_issue'), 0),
       coalesce(sum(q.signed_qty) FILTER (WHERE mt.category = 'delivery'), 0),
       coalesce(sum(q.signed_qty) FILTER (WHERE mt.category = 'transfer'), 0),
       coalesce(sum(q.signed_qty) FILTER (WHERE mt.category IS NULL OR mt.category = 'other'), 0),
       coalesce(sum(q.signed_qty) FILTER (WHERE mt.is_reversal), 0),
       sum(q.signed_qty),
       count(*)
  FROM raw.raw_mb51 r
  LEFT JOIN dims.dim_movement_type mt ON mt.movement_type = r.movement_type
 CROSS JOIN LATERAL (
        SELECT CASE WHEN mt.direction IS NULL THEN r.qty_in_unit_of_entry
                    ELSE abs(r.qty_in_unit_of_entry) * mt.direction END AS signed_qty) q
 WHERE r.posting_date = ANY(%(movement_dates)s::date[])
 GROUP BY r.posting_date, r.material, r.plant, coalesce(r.storage_location, '#'), r.unit_of_entry;
