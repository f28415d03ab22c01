-- low_yield: production orders (delivered / order quantity) and genealogy links (produced / consumed
-- kg) below %(yield_pct)s %%: critical below %(yield_critical_pct)s %%, warning below
-- %(yield_warning_pct)s %%, info otherwise. Orders finished, and links made, within
-- %(yield_window_days)s days of the as-of date are judged; an older one's alert resolves. A yield is
-- judged only where output can be known: a link into an order not finished yet is still being
-- produced, and a link that produced nothing yet into an order no finished export names is "not
-- produced yet" (the on-call page shows it; no alert); a link without a unit conversion has no yield
-- (NULL), never 0 %%.
WITH judged (entity_key, yield_pct, message, details) AS (
    SELECT 'order:' || p.order_number_norm,
           p.yield_pct,
           format('Order %%s (%%s, %%s, batch %%s) finished %%s with yield %%s %%%% (%%s of %%s %%s)',
                  p.order_number_norm, p.material_code, p.mrp_controller, p.batch, p.actual_finish_date,
                  p.yield_pct, p.delivered_qty, p.order_qty, p.unit),
           jsonb_build_object('order', p.order_number_norm, 'material', p.material_code, 'batch', p.batch,
                              'mrp_controller', p.mrp_controller, 'finished', p.actual_finish_date,
                              'order_qty', p.order_qty, 'delivered_qty', p.delivered_qty)
      FROM facts.fact_production p
     WHERE p.actual_finish_date BETWEEN %(as_of)s::date - %(yield_window_days)s AND %(as_of)s::date
    UNION ALL
    SELECT 'link:' || c.parent_material || '/' || c.parent_batch || '>' || c.child_material || '/' || c.child_batch,
           c.yield_pct,
           format('%%s batch %%s -> %%s batch %%s (%%s -> %%s): yield %%s %%%% (%%s kg from %%s kg)',
                  c.parent_level, c.parent_batch, c.child_level, c.child_batch, c.parent_material,
                  c.child_material, c.yield_pct, c.produced_kg, c.consumed_kg),
           jsonb_build_object('parent_material', c.parent_material, 'parent_batch', c.parent_batch,
                              'child_material', c.child_material, 'child_batch', c.child_batch,
                              'link_rule', c.link_rule, 'consumed_kg', c.consumed_kg, 'produced_kg', c.produced_kg)
      FROM facts.fact_production_chain c
     WHERE c.business_date BETWEEN %(as_of)s::date - %(yield_window_days)s AND %(as_of)s::date
       AND NOT EXISTS (SELECT 1 FROM facts.fact_production p
                        WHERE p.order_number_norm = ltrim(c.child_order, '0') AND p.actual_finish_date IS NULL)
       AND (c.produced_qty > 0
            OR EXISTS (SELECT 1 FROM facts.fact_production p
                        WHERE p.order_number_norm = ltrim(c.child_order, '0') AND p.actual_finish_date IS NOT NULL))
)
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'low_yield',
       entity_key,
       CASE WHEN yield_pct < %(yield_critical_pct)s THEN 'critical'
            WHEN yield_pct < %(yield_warning_pct)s THEN 'warning'
            ELSE 'info' END,
       yield_pct,
       %(yield_pct)s,
       message,
       details
  FROM judged
 WHERE yield_pct < %(yield_pct)s;
