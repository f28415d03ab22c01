-- facts.fact_production_chain: batch genealogy links (parent batch consumed -> child batch made)
-- that the data of business dates %(business_dates)s can make or change, by the rules of
-- docs/sap_exports.md, most reliable first:
--   mb51_261_order     an MB51 261/262 line naming its production order: the issued batch is the
--                      parent, the order's COOISPI output batch the child; consumed = net issued qty.
--   zrpp062_sfg_liquid a ZRPP062 line: the P02 order named in 'Order SFG Liquid' (its COOISPI batch)
--                      is the parent of the P01 process order's batch; consumed = GI SFG Liquid to
--                      Order Filling, produced = GR Qty to 0201.
-- Orders match without leading zeros. A parent batch made by a known order takes that order's MRP
-- controller as its level (P03/P02/P01), otherwise it is bought raw material (RAW). Where both rules
-- link the same pair, the first rule's link is kept. yield_pct = produced kg / consumed kg * 100
-- (units to kg by dims.dim_unit_conversion or site.yaml weight units %(weight_units_kg)s).
-- Each link's business_date is the latest business date among the raw rows that made it, so the
-- table is a function of the raw layer: links dated D are deleted and every link D touches is
-- rebuilt.
CREATE TEMP TABLE chain_orders ON COMMIT DROP AS
SELECT ltrim(order_number, '0') AS order_norm FROM raw.raw_cooispi WHERE business_date = ANY(%(business_dates)s::date[])
UNION SELECT ltrim(order_number, '0') FROM raw.raw_mb51
 WHERE business_date = ANY(%(business_dates)s::date[]) AND movement_type IN ('261', '262') AND order_number IS NOT NULL
UNION SELECT ltrim(process_order, '0') FROM raw.raw_zrpp062 WHERE business_date = ANY(%(business_dates)s::date[])
-- orders consuming a batch that D's COOISPI made: that batch's level may have changed
UNION SELECT ltrim(m.order_number, '0')
  FROM raw.raw_cooispi c JOIN raw.raw_mb51 m ON m.batch = c.batch AND m.material = c.material_number
 WHERE c.business_date = ANY(%(business_dates)s::date[]) AND m.movement_type IN ('261', '262')
   AND m.order_number IS NOT NULL
-- P01 orders whose liquid order is in D's COOISPI
UNION SELECT ltrim(z.process_order, '0')
  FROM raw.raw_cooispi c JOIN raw.raw_zrpp062 z ON ltrim(z.order_sfg_liquid, '0') = ltrim(c.order_number, '0')
 WHERE c.business_date = ANY(%(business_dates)s::date[]);

DELETE FROM facts.fact_production_chain WHERE business_date = ANY(%(business_dates)s::date[]);

WITH weights AS (
    SELECT key AS unit, (value #>> '{}')::numeric AS kg FROM jsonb_each(%(weight_units_kg)s::jsonb)
),
issued AS (
    SELECT ltrim(m.order_number, '0') AS order_norm, m.material, m.batch, min(m.unit_of_entry) AS unit,
           -sum(m.qty_in_unit_of_entry) AS consumed_qty, max(m.business_date) AS business_date
      FROM raw.raw_mb51 m
     WHERE ltrim(m.order_number, '0') IN (SELECT order_norm FROM chain_orders)
       AND m.order_number IS NOT NULL AND m.movement_type IN ('261', '262') AND m.batch IS NOT NULL
     GROUP BY 1, 2, 3
),
rule_261 AS (
    SELECT i.material AS parent_material, i.batch AS parent_batch, i.unit AS consumed_unit, i.consumed_qty,
           o.material_code AS child_material, o.batch AS child_batch, o.order_number AS child_order,
           o.mrp_controller AS child_level, o.delivered_qty AS produced_qty, o.unit AS produced_unit,
           'mb51_261_order' AS link_rule, 1 AS priority,
           greatest(i.business_date, o.business_date) AS business_date
      FROM issued i
      JOIN facts.fact_production o ON o.order_number_norm = i.order_norm
     WHERE o.batch IS NOT NULL
),
rule_062 AS (
    SELECT p.material_code AS parent_material, p.batch AS parent_batch,
           z.gi_sfg_liquid_to_order_filling_uom AS consumed_unit, z.gi_sfg_liquid_to_order_filling AS consumed_qty,
           z.material AS child_material, z.batch AS child_batch,
           coalesce(o.order_number, z.process_order) AS child_order,
           coalesce(o.mrp_controller, z.mrp_controller) AS child_level,
           z.gr_qty_to_0201 AS produced_qty, coalesce(z.process_order_qty_uom, o.unit) AS produced_unit,
           'zrpp062_sfg_liquid' AS link_rule, 2 AS priority,
           greatest(z.business_date, p.business_date, o.business_date) AS business_date
      FROM raw.raw_zrpp062 z
      JOIN facts.fact_production p ON p.order_number_norm = ltrim(z.order_sfg_liquid, '0')
      LEFT JOIN facts.fact_production o ON o.order_number_norm = ltrim(z.process_order, '0')
     WHERE ltrim(z.process_order, '0') IN (SELECT order_norm FROM chain_orders)
       AND p.batch IS NOT NULL AND z.batch IS NOT NULL AND z.superseded_on IS NULL
),
links AS (
    SELECT DISTINCT ON (parent_material, parent_batch, child_material, child_batch) *
      FROM (SELECT * FROM rule_261 UNION ALL SELECT * FROM rule_062) l
     WHERE child_level IN ('P01', 'P02', 'P03')
     ORDER BY parent_material, parent_batch, child_material, child_batch, priority
),
measured AS (
    SELECT l.*, maker.order_number AS parent_order,
           coalesce(CASE WHEN maker.mrp_controller IN ('P01', 'P02', 'P03') THEN maker.mrp_controller END, 'RAW')
               AS parent_level,
           round(l.consumed_qty * coalesce(wc.kg, uc.kg_per_unit), 3) AS consumed_kg,
           round(l.produced_qty * coalesce(wp.kg, up.kg_per_unit), 3) AS produced_kg,
           greatest(l.business_date, maker.business_date) AS link_date
      FROM links l
      LEFT JOIN LATERAL (
            SELECT f.order_number, f.mrp_controller, f.business_date FROM facts.fact_production f
             WHERE f.material_code = l.parent_material AND f.batch = l.parent_batch
             ORDER BY f.order_number LIMIT 1) maker ON true
      LEFT JOIN weights wc ON wc.unit = l.consumed_unit
      LEFT JOIN dims.dim_unit_conversion uc ON uc.material_code = l.parent_material AND uc.unit = l.consumed_unit
      LEFT JOIN weights wp ON wp.unit = l.produced_unit
      LEFT JOIN dims.dim_unit_conversion up ON up.material_code = l.child_material AND up.unit = l.produced_unit
)
INSERT INTO facts.fact_production_chain AS c (
    parent_material, parent_batch, parent_order, parent_level, child_material, child_batch, child_order,
    child_level, link_rule, consumed_qty, consumed_unit, consumed_kg, produced_qty, produced_unit, produced_kg,
    yield_pct, business_date)
SELECT parent_material, parent_batch, parent_order, parent_level, child_material, child_batch, child_order,
       child_level, link_rule, consumed_qty, consumed_unit, consumed_kg, produced_qty, produced_unit, produced_kg,
       round(100 * produced_kg / nullif(consumed_kg, 0), 2), link_date
  FROM measured
ON CONFLICT (parent_material, parent_batch, child_material, child_batch) DO UPDATE
   SET (parent_material, parent_batch, parent_order, parent_level, child_material, child_batch, child_order,
        child_level, link_rule, consumed_qty, produced_qty, yield_pct, business_date, consumed_unit,
        produced_unit, consumed_kg, produced_kg) = ROW (excluded.*)  -- all, in table order
 WHERE (c.link_rule = excluded.link_rule OR excluded.link_rule = 'mb51_261_order')
   AND c IS DISTINCT FROM excluded;
