-- marts.view_production_yield as migration 0001 creates it (kept for 0016's downgrade).
CREATE MATERIALIZED VIEW marts.view_production_yield AS
SELECT date_trunc('month', coalesce(p.actual_finish_date, p.basic_finish_date))::date AS finish_month,
       p.plant,
       p.mrp_controller,
       p.material_code,
       p.unit,
       count(*) AS order_count,
       sum(p.order_qty) AS order_qty,
       sum(p.delivered_qty) AS delivered_qty,
       round(100 * sum(p.delivered_qty) / nullif(sum(p.order_qty), 0), 2) AS yield_pct
  FROM facts.fact_production p
 GROUP BY 1, 2, 3, 4, 5;
CREATE UNIQUE INDEX view_production_yield_key ON marts.view_production_yield
    (finish_month, plant, mrp_controller, material_code, unit) NULLS NOT DISTINCT;
