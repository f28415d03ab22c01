-- Backward trace: the batches (material %(material)s, batch %(batch)s) was made from, level by level
-- down to bought raw material, through facts.fact_production_chain. material NULL = any material
-- with that batch number.
WITH RECURSIVE up AS (
    SELECT c.*, 1 AS depth
      FROM facts.fact_production_chain c
     WHERE c.child_batch = %(batch)s AND (%(material)s::text IS NULL OR c.child_material = %(material)s)
    UNION ALL
    SELECT c.*, u.depth + 1
      FROM facts.fact_production_chain c
      JOIN up u ON c.child_material = u.parent_material AND c.child_batch = u.parent_batch
     WHERE u.depth < 10
)
SELECT DISTINCT depth, child_level, child_material, child_batch, child_order, parent_level, parent_material,
       parent_batch, parent_order, link_rule, consumed_qty, consumed_unit, yield_pct
  FROM up
 ORDER BY depth, child_material, child_batch, parent_material, parent_batch;
