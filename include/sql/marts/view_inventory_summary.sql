-- revision: 0002
-- marts.view_inventory_summary: Stock per material, plant, storage location and unit: on-hand
-- quantity and value, movements by kind, first and last movement date, from facts.fact_inventory.
-- The current definition. A migration that changes it first copies this file to
-- history/view_inventory_summary.0002.sql (which migration 0002 then loads) and names its own
-- revision above.
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
