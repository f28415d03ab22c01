-- Forward trace (the recall question): every batch made from the traced batch, level by level up to
-- finished goods, then the deliveries that shipped any of those batches (MB51 601 goods issues,
-- Reference = delivery, net of 602 reversals) and the customers who received them (ZRSD004 ship-to)
-- and were billed for them (ZRSD002 sold-to of non-cancelled lines). Continues walk.sql (downstream):
-- the links above the batch, and the batch itself.
,
batches AS (
    SELECT DISTINCT material, batch FROM raw.raw_mb51
     WHERE batch = %(batch)s AND (%(material)s::text IS NULL OR material = %(material)s)
    UNION SELECT child_material, child_batch FROM walk
),
shipped AS (
    SELECT m.material, m.batch, m.reference AS delivery, -sum(m.qty_in_unit_of_entry) AS shipped_qty,
           min(m.unit_of_entry) AS unit, min(m.posting_date) AS shipped_on
      FROM raw.raw_mb51 m
      JOIN batches b ON b.material = m.material AND b.batch = m.batch
     WHERE m.movement_type IN ('601', '602') AND m.reference IS NOT NULL
     GROUP BY m.material, m.batch, m.reference
    HAVING sum(m.qty_in_unit_of_entry) <> 0
)
SELECT 'link' AS kind, depth, child_level AS level, child_material AS material, child_batch AS batch,
       child_order AS document, parent_material || '/' || parent_batch AS made_from, link_rule AS detail,
       NULL::text AS customer_code, NULL::text AS customer_name, produced_qty AS quantity, produced_unit AS unit,
       NULL::date AS on_date
  FROM walk
UNION ALL
SELECT 'delivery', NULL::integer, NULL::text, s.material, s.batch, s.delivery, NULL::text, 'shipped to',
       d.ship_to_party, coalesce(cust.customer_name, d.name_of_ship_to), s.shipped_qty, s.unit, s.shipped_on
  FROM shipped s
  LEFT JOIN LATERAL (SELECT r.ship_to_party, r.name_of_ship_to FROM raw.raw_zrsd004 r
                      WHERE r.delivery = s.delivery AND r.superseded_on IS NULL ORDER BY r.line_item LIMIT 1) d ON true
  LEFT JOIN dims.dim_customer cust ON cust.customer_code = d.ship_to_party
UNION ALL
SELECT DISTINCT 'billing', NULL::integer, NULL::text, s.material, s.batch, b.billing_document, s.delivery, 'billed to',
       b.sold_to, coalesce(cust.customer_name, b.name_of_bill_to), NULL::numeric, NULL::text, b.billing_date
  FROM shipped s
  JOIN raw.raw_zrsd002 b ON b.doc_reference_od = s.delivery AND b.material = s.material
                        AND b.cancelled IS NULL AND b.doc_cancel IS NULL AND b.superseded_on IS NULL
  LEFT JOIN dims.dim_customer cust ON cust.customer_code = b.sold_to
 ORDER BY 1 DESC, 2, 4, 5, 6;
