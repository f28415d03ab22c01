-- The genealogy links reachable from the traced batch (parameters batch, material; a NULL material
-- means any material with that batch number) through facts.fact_production_chain, level by level
-- (depth 1: the batch's own links), at most 10 levels. Upstream (parameter upstream true): from a
-- link's child to its parent, the batches it was made from, down to bought raw material; downstream:
-- from parent to child, the batches made from it, up to finished goods. The trace queries of this
-- folder continue this WITH (genealogy.py joins the texts). The parameters are bound client-side as
-- literals, so PostgreSQL folds each OR to one side and walks the chain's indexes. No parameter stands
-- in a comment: a batch given on the command line must not end one.
WITH RECURSIVE walk AS (
    SELECT c.*, 1 AS depth
      FROM facts.fact_production_chain c
     WHERE (%(upstream)s AND c.child_batch = %(batch)s AND (%(material)s::text IS NULL OR c.child_material = %(material)s))
        OR (NOT %(upstream)s AND c.parent_batch = %(batch)s
            AND (%(material)s::text IS NULL OR c.parent_material = %(material)s))
    UNION ALL
    SELECT c.*, w.depth + 1
      FROM facts.fact_production_chain c
      JOIN walk w ON (%(upstream)s AND (c.child_material, c.child_batch) = (w.parent_material, w.parent_batch))
                  OR (NOT %(upstream)s AND (c.parent_material, c.parent_batch) = (w.child_material, w.child_batch))
     WHERE w.depth < 10
)
