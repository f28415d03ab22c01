-- revision: 0016
-- marts.view_production_yield: one row per production order (and its batch) that delivered a
-- quantity: production date (actual finish, else the basic finish date), ordered and delivered
-- quantity, yield_pct (delivered / ordered) and its rating from dims.dim_yield_rating (site.yaml
-- yield_ratings: the best band whose minimum the yield reaches; defaults Excellent >= 95, Good >= 85,
-- Fair >= 75, else Poor). An order still in process (no actual finish date) is listed, not rated.
-- The current definition. A migration that changes it first copies this file to
-- history/view_production_yield.0016.sql (which migration 0016 then loads) and names its own
-- revision above.
CREATE MATERIALIZED VIEW marts.view_production_yield AS
SELECT p.order_number,
       p.batch,
       p.plant,
       p.mrp_controller,
       p.material_code,
       m.material_description,
       coalesce(p.actual_finish_date, p.basic_finish_date) AS production_date,
       p.actual_finish_date IS NOT NULL AS is_finished,
       p.order_qty,
       p.delivered_qty,
       p.unit,
       p.yield_pct,
       CASE WHEN p.actual_finish_date IS NOT NULL AND p.yield_pct IS NOT NULL
            THEN (SELECT r.rating FROM dims.dim_yield_rating r
                   WHERE p.yield_pct >= r.min_pct ORDER BY r.min_pct DESC LIMIT 1) END AS yield_rating
  FROM facts.fact_production p
  LEFT JOIN dims.dim_material m ON m.material_code = p.material_code
 WHERE p.delivered_qty > 0;
CREATE UNIQUE INDEX view_production_yield_key ON marts.view_production_yield (order_number);
