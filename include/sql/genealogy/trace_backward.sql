-- Backward trace: the batches the traced batch was made from, level by level down to bought raw
-- material. Continues walk.sql (upstream): the links below the batch.
SELECT DISTINCT depth, child_level, child_material, child_batch, child_order, parent_level, parent_material,
       parent_batch, parent_order, link_rule, consumed_qty, consumed_unit, yield_pct
  FROM walk
 ORDER BY depth, child_material, child_batch, parent_material, parent_batch;
