-- revision: 0022
-- marts.view_stock_reconciliation: every MB52 count against the previous count of its plant plus the
-- MB51 movements posted between them (after the previous count, up to this one), per material, plant,
-- storage location and unit: expected = previous count + movements, difference = counted - expected.
-- A position either count lacks counts 0 there. The check plants do by hand; the stock_drift alert
-- reads the latest count of each plant and flags differences beyond the site's tolerance (site.yaml
-- stock_drift). A plant's first count has nothing to be checked against and has no rows.
-- The current definition. A migration that changes it first copies this file to
-- history/view_stock_reconciliation.0022.sql and names its own revision above.
CREATE MATERIALIZED VIEW marts.view_stock_reconciliation AS
WITH pairs AS (
    SELECT c.plant, c.snapshot_date,
           lag(c.snapshot_date) OVER (PARTITION BY c.plant ORDER BY c.snapshot_date) AS previous_snapshot_date
      FROM (SELECT DISTINCT plant, snapshot_date FROM facts.fact_stock_snapshot) c
), counted AS (
    SELECT p.plant, p.snapshot_date, p.previous_snapshot_date, s.material_code, s.storage_location, s.unit,
           sum(s.on_hand_qty) FILTER (WHERE s.snapshot_date = p.previous_snapshot_date) AS previous_qty,
           sum(s.on_hand_qty) FILTER (WHERE s.snapshot_date = p.snapshot_date) AS counted_qty
      FROM pairs p
      JOIN facts.fact_stock_snapshot s
        ON s.plant = p.plant AND s.snapshot_date IN (p.snapshot_date, p.previous_snapshot_date)
     WHERE p.previous_snapshot_date IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5, 6
), moved AS (
    SELECT p.plant, p.snapshot_date, p.previous_snapshot_date, f.material_code, f.storage_location, f.unit,
           sum(f.net_qty) AS movement_qty, sum(f.movement_count)::bigint AS movement_count
      FROM pairs p
      JOIN facts.fact_inventory f
        ON f.plant = p.plant AND f.movement_date > p.previous_snapshot_date AND f.movement_date <= p.snapshot_date
     GROUP BY 1, 2, 3, 4, 5, 6
)
SELECT snapshot_date, previous_snapshot_date, material_code, plant, storage_location, unit,
       coalesce(c.previous_qty, 0) AS previous_qty,
       coalesce(m.movement_qty, 0) AS movement_qty,
       coalesce(m.movement_count, 0) AS movement_count,
       coalesce(c.previous_qty, 0) + coalesce(m.movement_qty, 0) AS expected_qty,
       coalesce(c.counted_qty, 0) AS counted_qty,
       coalesce(c.counted_qty, 0) - coalesce(c.previous_qty, 0) - coalesce(m.movement_qty, 0) AS difference_qty
  FROM counted c
  FULL JOIN moved m USING (plant, snapshot_date, previous_snapshot_date, material_code, storage_location, unit);
CREATE UNIQUE INDEX view_stock_reconciliation_key
    ON marts.view_stock_reconciliation (plant, snapshot_date, material_code, storage_location, unit);
