-- Reconciliation of the facts of business dates %(business_dates)s with the raw layer, computed from the
-- raw rows independently of the fact builds. One row per check and scope; a row whose expected and
-- actual differ fails the run. Raw lines a newer snapshot export superseded (superseded_on) are not
-- the truth any more and count on neither side. Exclusions are counted, not hidden:
--   billing_revenue     per billing date and currency: raw Net Value of non-cancelled lines =
--                       fact_billing sales_amount
--   billing_lines       per billing date: raw lines = fact lines + cancelled lines (excluded)
--   inventory_lines     per posting date: raw MB51 lines = sum of fact movement_count
--   inventory_quantity  per posting date and unit: raw quantities signed by movement type = net_qty
--   production_orders   per business date: COOISPI orders of its files = fact_production rows of them
--   ar_aging_rows       per business date: its ZRFI005 rows = fact_ar_aging rows of that snapshot date
--   stock_count_lines   per business date: its MB52 lines = sum of fact_stock_snapshot batch_count
WITH signs AS (
    SELECT movement_type, direction FROM dims.dim_movement_type
),
checks (check_name, scope, expected, actual, excluded) AS (
    SELECT 'billing_revenue', b.billing_date || ' ' || b.currency, b.raw_amount, coalesce(f.amount, 0), 0::numeric
      FROM (SELECT billing_date, curr AS currency, sum(net_value) AS raw_amount
              FROM raw.raw_zrsd002
             WHERE billing_date = ANY(%(billing_dates)s::date[]) AND cancelled IS NULL AND doc_cancel IS NULL
               AND superseded_on IS NULL
             GROUP BY 1, 2) b
      LEFT JOIN (SELECT billing_date, currency, sum(sales_amount) AS amount FROM facts.fact_billing
                  WHERE billing_date = ANY(%(billing_dates)s::date[]) GROUP BY 1, 2) f
             ON f.billing_date = b.billing_date AND f.currency IS NOT DISTINCT FROM b.currency
    UNION ALL
    SELECT 'billing_lines', r.billing_date::text, r.lines,
           coalesce((SELECT count(*) FROM facts.fact_billing f WHERE f.billing_date = r.billing_date), 0)
               + r.cancelled,
           r.cancelled
      FROM (SELECT billing_date, count(*) AS lines,
                   count(*) FILTER (WHERE cancelled IS NOT NULL OR doc_cancel IS NOT NULL) AS cancelled
              FROM raw.raw_zrsd002 WHERE billing_date = ANY(%(billing_dates)s::date[]) AND superseded_on IS NULL
             GROUP BY 1) r
    UNION ALL
    SELECT 'inventory_lines', d::date::text,
           (SELECT count(*) FROM raw.raw_mb51 WHERE posting_date = d::date),
           (SELECT coalesce(sum(movement_count), 0) FROM facts.fact_inventory WHERE movement_date = d::date), 0
      FROM unnest(%(movement_dates)s::date[]) d
    UNION ALL
    SELECT 'inventory_quantity', r.posting_date || ' ' || r.unit, r.qty, coalesce(f.qty, 0), 0
      FROM (SELECT m.posting_date, m.unit_of_entry AS unit,
                   sum(CASE WHEN s.direction IS NULL THEN m.qty_in_unit_of_entry
                            ELSE abs(m.qty_in_unit_of_entry) * s.direction END) AS qty
              FROM raw.raw_mb51 m LEFT JOIN signs s ON s.movement_type = m.movement_type
             WHERE m.posting_date = ANY(%(movement_dates)s::date[]) GROUP BY 1, 2) r
      LEFT JOIN (SELECT movement_date, unit, sum(net_qty) AS qty FROM facts.fact_inventory
                  WHERE movement_date = ANY(%(movement_dates)s::date[]) GROUP BY 1, 2) f
             ON f.movement_date = r.posting_date AND f.unit IS NOT DISTINCT FROM r.unit
    UNION ALL
    SELECT 'production_orders', d::date::text,
           (SELECT count(*) FROM raw.raw_cooispi r WHERE r.business_date = d::date AND r.superseded_on IS NULL),
           (SELECT count(*) FROM raw.raw_cooispi r JOIN facts.fact_production f ON f.order_number = r.order_number
             WHERE r.business_date = d::date AND r.superseded_on IS NULL), 0
      FROM unnest(%(business_dates)s::date[]) d
    UNION ALL
    SELECT 'ar_aging_rows', d::date::text,
           (SELECT count(*) FROM raw.raw_zrfi005 WHERE snapshot_date = d::date AND superseded_on IS NULL),
           (SELECT count(*) FROM facts.fact_ar_aging WHERE snapshot_date = d::date), 0
      FROM unnest(%(business_dates)s::date[]) d
    UNION ALL
    SELECT 'stock_count_lines', d::date::text,
           (SELECT count(*) FROM raw.raw_mb52 WHERE snapshot_date = d::date AND superseded_on IS NULL),
           (SELECT coalesce(sum(batch_count), 0) FROM facts.fact_stock_snapshot WHERE snapshot_date = d::date), 0
      FROM unnest(%(business_dates)s::date[]) d
)
SELECT check_name, scope, expected, actual, excluded, expected = actual AS ok
  FROM checks
 ORDER BY check_name, scope;
