-- facts.fact_inventory for the posting dates %(movement_dates)s: the business date itself and every
-- posting date its MB51 files carried (late postings). Each date is rebuilt whole from all raw
-- MB51 lines posted on it, so the result does not depend on which file delivered them or when.
-- Sign rule: a movement type with a configured direction gets |qty| * direction (reversals carry
-- the opposite direction of what they reverse); transfers keep the sign of their line.
-- stock_value = net_qty * the unit cost in force on the posting date (raw COGS of the material and
-- plant, latest effective date on or before it; moving average cost, else standard cost); NULL
-- when no cost is known.
DELETE FROM facts.fact_inventory WHERE movement_date = ANY(%(movement_dates)s::date[]);

WITH movements AS (
    SELECT r.posting_date,
           r.material,
           r.plant,
           coalesce(r.storage_location, '#') AS storage_location,
           r.unit_of_entry,
           coalesce(sum(q.signed_qty) FILTER (WHERE mt.category = 'receipt'), 0) AS receipt_qty,
           coalesce(sum(q.signed_qty) FILTER (WHERE mt.category = 'production_issue'), 0) AS production_issue_qty,
           coalesce(sum(q.signed_qty) FILTER (WHERE mt.category = 'delivery'), 0) AS delivery_qty,
           coalesce(sum(q.signed_qty) FILTER (WHERE mt.category = 'transfer'), 0) AS transfer_qty,
           coalesce(sum(q.signed_qty) FILTER (WHERE mt.category IS NULL OR mt.category = 'other'), 0) AS other_qty,
           coalesce(sum(q.signed_qty) FILTER (WHERE mt.is_reversal), 0) AS reversal_qty,
           sum(q.signed_qty) AS net_qty,
           count(*) AS movement_count
      FROM raw.raw_mb51 r
      LEFT JOIN dims.dim_movement_type mt ON mt.movement_type = r.movement_type
     CROSS JOIN LATERAL (
            SELECT CASE WHEN mt.direction IS NULL THEN r.qty_in_unit_of_entry
                        ELSE abs(r.qty_in_unit_of_entry) * mt.direction END AS signed_qty) q
     WHERE r.posting_date = ANY(%(movement_dates)s::date[])
     GROUP BY r.posting_date, r.material, r.plant, coalesce(r.storage_location, '#'), r.unit_of_entry
)
INSERT INTO facts.fact_inventory (
    movement_date, material_code, plant, storage_location, unit, receipt_qty, production_issue_qty,
    delivery_qty, transfer_qty, other_qty, reversal_qty, net_qty, movement_count, stock_value)
SELECT m.posting_date, m.material, m.plant, m.storage_location, m.unit_of_entry, m.receipt_qty,
       m.production_issue_qty, m.delivery_qty, m.transfer_qty, m.other_qty, m.reversal_qty, m.net_qty,
       m.movement_count, round(m.net_qty * cost.unit_cost, 2)
  FROM movements m
  LEFT JOIN LATERAL (
        SELECT coalesce(c.moving_average_cost, c.standard_cost) AS unit_cost
          FROM raw.raw_cogs c
         WHERE c.material = m.material AND c.plant = m.plant AND c.effective_date <= m.posting_date
         ORDER BY c.effective_date DESC LIMIT 1) cost ON true;
