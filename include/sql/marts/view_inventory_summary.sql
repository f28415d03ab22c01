-- revision: 0022
-- marts.view_inventory_summary: stock per material, plant, storage location and unit, current to the
-- latest data: on-hand = the plant's latest MB52 count plus the MB51 movements posted after it
-- (facts.stock_on_hand). A plant never counted has no baseline: on_hand_qty and stock_value are NULL,
-- stock_basis says so, and window_net_qty (every movement known, a change rather than a stock) stands
-- beside it. Movements by kind, first and last movement date from facts.fact_inventory.
-- The current definition. A migration that changes it first copies this file to
-- history/view_inventory_summary.0022.sql (which migration 0022 then loads) and names its own
-- revision above.
CREATE MATERIALIZED VIEW marts.view_inventory_summary AS
WITH movements AS (
    SELECT f.material_code, f.plant, f.storage_location, f.unit,
           sum(f.receipt_qty) AS receipt_qty, sum(f.production_issue_qty) AS production_issue_qty,
           sum(f.delivery_qty) AS delivery_qty, sum(f.transfer_qty) AS transfer_qty,
           sum(f.movement_count)::bigint AS movement_count,
           min(f.movement_date) AS first_movement_date, max(f.movement_date) AS last_movement_date
      FROM facts.fact_inventory f
     GROUP BY f.material_code, f.plant, f.storage_location, f.unit
)
SELECT s.material_code,
       m.material_description,
       m.material_type,
       s.plant,
       l.plant_name,
       s.storage_location,
       s.unit,
       s.on_hand_qty,
       round(s.on_hand_qty * cost.unit_cost, 2) AS stock_value,
       CASE WHEN s.baseline_date IS NULL THEN 'no baseline' ELSE 'counted ' || s.baseline_date END AS stock_basis,
       s.baseline_date, s.baseline_qty, s.movement_qty AS movement_since_baseline_qty, s.window_net_qty,
       -- movements by kind
       coalesce(mv.receipt_qty, 0) AS receipt_qty, coalesce(mv.production_issue_qty, 0) AS production_issue_qty,
       coalesce(mv.delivery_qty, 0) AS delivery_qty, coalesce(mv.transfer_qty, 0) AS transfer_qty,
       coalesce(mv.movement_count, 0) AS movement_count,
       mv.first_movement_date, mv.last_movement_date
  FROM facts.stock_on_hand('infinity') s
  LEFT JOIN movements mv USING (material_code, plant, storage_location, unit)
  LEFT JOIN dims.dim_material m ON m.material_code = s.material_code
  LEFT JOIN dims.dim_location l ON l.plant = s.plant AND l.storage_location = s.storage_location
  LEFT JOIN LATERAL (
        SELECT coalesce(c.moving_average_cost, c.standard_cost) AS unit_cost
          FROM raw.raw_cogs c
         WHERE c.material = s.material_code AND c.plant = s.plant
         ORDER BY c.effective_date DESC LIMIT 1) cost ON true;
CREATE UNIQUE INDEX view_inventory_summary_key
    ON marts.view_inventory_summary (material_code, plant, storage_location, unit);
