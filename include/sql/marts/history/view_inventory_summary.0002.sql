-- marts.view_inventory_summary as migration 0002 creates it (kept for 0022's downgrade): on-hand as the
-- running sum of every movement, which is a change, not a stock, when the movements start mid-history.
CREATE MATERIALIZED VIEW marts.view_inventory_summary AS
SELECT f.material_code,
       m.material_description,
       m.material_type,
       f.plant,
       l.plant_name,
       f.storage_location,
       f.unit,
       sum(f.net_qty) AS on_hand_qty, sum(f.stock_value) AS stock_value,
       -- movements by kind
       sum(f.receipt_qty) AS receipt_qty, sum(f.production_issue_qty) AS production_issue_qty,
       sum(f.delivery_qty) AS delivery_qty, sum(f.transfer_qty) AS transfer_qty,
       sum(f.movement_count)::bigint AS movement_count,
       min(f.movement_date) AS first_movement_date, max(f.movement_date) AS last_movement_date
  FROM facts.fact_inventory f
  LEFT JOIN dims.dim_material m ON m.material_code = f.material_code
  LEFT JOIN dims.dim_location l ON l.plant = f.plant AND l.storage_location = f.storage_location
 GROUP BY f.material_code, m.material_description, m.material_type, f.plant, l.plant_name, f.storage_location,
          f.unit;
CREATE UNIQUE INDEX view_inventory_summary_key
    ON marts.view_inventory_summary (material_code, plant, storage_location, unit);
