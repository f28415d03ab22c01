-- dims.dim_material: every material the files of business dates %(business_dates)s mention, in any
-- report. Described by the material master (ZRSD006; distribution channels in code order, first
-- wins) with its site material type mapped to FERT/HALB/ROH/VERP by site.yaml (%(material_types)s)
-- and its product hierarchy; the MRP controller (P01/P02/P03) comes from the material's latest
-- COOISPI order. A material the master lacks is an inferred member (is_inferred), described by the
-- first report that names it (COOISPI, MB51, billing, deliveries, transport orders, ZRPP062, MB52 counts,
-- COGS),
-- latest row first, so facts never lose a row to a missing master record. MB51 and billing are read
-- from D's own posting/billing dates onward (a material's latest line is never earlier), so the cost
-- follows the day, not the history.
WITH touched AS (
    SELECT material AS code FROM raw.raw_mb51 WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT material_code FROM raw.raw_zrsd006 WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT material_number FROM raw.raw_cooispi WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT material FROM raw.raw_zrsd002 WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT material FROM raw.raw_zrsd004 WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT material FROM raw.raw_zrmm024 WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT material FROM raw.raw_zrpp062 WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT material FROM raw.raw_cogs WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT material FROM raw.raw_mb52 WHERE business_date = ANY(%(business_dates)s::date[])
    -- What the facts rebuilt for these dates read besides: every line posted (billed) on a posting
    -- (billing) date their files carried, whichever date's file delivered it: an earlier run that
    -- stopped before its dimensions leaves lines no dimension build has seen yet.
    UNION SELECT material FROM raw.raw_mb51 WHERE posting_date = ANY(%(movement_dates)s::date[])
    UNION SELECT material FROM raw.raw_zrsd002 WHERE billing_date = ANY(%(billing_dates)s::date[])
),
latest_mb51 AS (
    SELECT DISTINCT ON (r.material) r.material, r.material_description, r.unit_of_entry
      FROM raw.raw_mb51 r
     WHERE r.posting_date >= (SELECT min(posting_date) FROM raw.raw_mb51
                               WHERE business_date = ANY(%(business_dates)s::date[]))
       AND r.material IN (SELECT code FROM touched)
     ORDER BY r.material, r.posting_date DESC, r.material_document DESC, r.row_hash DESC, r.occurrence DESC
),
latest_billing AS (
    SELECT DISTINCT ON (r.material) r.material, r.description, r.sales_unit, r.material_type
      FROM raw.raw_zrsd002 r
     WHERE r.billing_date >= (SELECT min(billing_date) FROM raw.raw_zrsd002
                               WHERE business_date = ANY(%(business_dates)s::date[]))
       AND r.material IN (SELECT code FROM touched)
     ORDER BY r.material, r.billing_date DESC, r.billing_document DESC, r.billing_item DESC
),
types AS (
    SELECT key AS site_type, value #>> '{}' AS material_type FROM jsonb_each(%(material_types)s::jsonb)
),
described AS (
    SELECT t.code,
           master.mat_description AS master_description,
           master.mat_type AS master_type,
           master.uom AS master_unit,
           master,
           prod.mrp_controller,
           prod.material_description AS cooispi_description,
           prod.unit_of_measure AS cooispi_unit,
           mb.material_description AS mb51_description,
           mb.unit_of_entry AS mb51_unit,
           bill.description AS billing_description,
           bill.sales_unit AS billing_unit,
           bill.material_type AS billing_type,
           dlv.description AS delivery_description,
           dlv.sales_unit AS delivery_unit,
           sto.material_description AS sto_description,
           var.material_description AS zrpp062_description,
           counted.material_description AS mb52_description,
           counted.base_unit_of_measure AS mb52_unit,
           cost.material AS cogs_material
      FROM touched t
      LEFT JOIN LATERAL (
            SELECT * FROM raw.raw_zrsd006 r WHERE r.material_code = t.code
             ORDER BY r.distribution_channel LIMIT 1) master ON true
      LEFT JOIN LATERAL (
            SELECT r.mrp_controller, r.material_description, r.unit_of_measure FROM raw.raw_cooispi r
             WHERE r.material_number = t.code
             ORDER BY r.basic_finish_date DESC NULLS LAST, r.order_number DESC LIMIT 1) prod ON true
      LEFT JOIN latest_mb51 mb ON mb.material = t.code
      LEFT JOIN latest_billing bill ON bill.material = t.code
      LEFT JOIN LATERAL (
            SELECT r.description, r.sales_unit FROM raw.raw_zrsd004 r WHERE r.material = t.code
             ORDER BY r.delivery_date DESC, r.delivery DESC, r.line_item DESC LIMIT 1) dlv ON true
      LEFT JOIN LATERAL (
            SELECT r.material_description FROM raw.raw_zrmm024 r WHERE r.material = t.code
             ORDER BY r.purch_order DESC, r.item DESC LIMIT 1) sto ON true
      LEFT JOIN LATERAL (
            SELECT r.material_description FROM raw.raw_zrpp062 r WHERE r.material = t.code
             ORDER BY r.process_order DESC, r.batch DESC LIMIT 1) var ON true
      LEFT JOIN LATERAL (
            SELECT r.material_description, r.base_unit_of_measure FROM raw.raw_mb52 r WHERE r.material = t.code
             ORDER BY r.snapshot_date DESC, r.plant, r.storage_location, r.batch LIMIT 1) counted ON true
      LEFT JOIN LATERAL (
            SELECT r.material FROM raw.raw_cogs r WHERE r.material = t.code LIMIT 1) cost ON true
     WHERE t.code IS NOT NULL
)
INSERT INTO dims.dim_material AS m (
    material_code, material_description, material_type, site_material_type, mrp_controller, base_unit,
    division, business, sub_business, product_group, product_group_1, product_group_2, series, color, item,
    material_group_1, product_hierarchy, is_inferred, source_report)
SELECT d.code,
       coalesce(d.master_description, d.cooispi_description, d.mb51_description, d.billing_description,
                d.delivery_description, d.sto_description, d.zrpp062_description, d.mb52_description),
       ty.material_type,
       coalesce(d.master_type, d.billing_type),
       d.mrp_controller,
       coalesce(d.master_unit, d.cooispi_unit, d.mb51_unit, d.billing_unit, d.delivery_unit, d.mb52_unit),
       (d.master).division, (d.master).business, (d.master).sub_business, (d.master).product_group,
       (d.master).product_group_1, (d.master).product_group_2, (d.master).series, (d.master).color,
       (d.master).item, (d.master).material_group_1,
       coalesce((d.master).ph_9, (d.master).ph_8, (d.master).ph_7, (d.master).ph_6, (d.master).ph_5,
                (d.master).ph_4, (d.master).ph_3, (d.master).ph_2, (d.master).ph_1),
       (d.master).material_code IS NULL,
       CASE WHEN (d.master).material_code IS NOT NULL THEN 'zrsd006'
            WHEN d.cooispi_description IS NOT NULL THEN 'cooispi'
            WHEN d.mb51_description IS NOT NULL THEN 'mb51'
            WHEN d.billing_description IS NOT NULL THEN 'zrsd002'
            WHEN d.delivery_description IS NOT NULL THEN 'zrsd004'
            WHEN d.sto_description IS NOT NULL THEN 'zrmm024'
            WHEN d.zrpp062_description IS NOT NULL THEN 'zrpp062'
            WHEN d.mb52_description IS NOT NULL OR d.mb52_unit IS NOT NULL THEN 'mb52'
            ELSE 'cogs' END
  FROM described d
  LEFT JOIN types ty ON ty.site_type = coalesce(d.master_type, d.billing_type)
ON CONFLICT (material_code) DO UPDATE
   SET (material_code, material_description, material_type, site_material_type, mrp_controller, base_unit,
        division, business, sub_business, product_group, product_group_1, product_group_2, series, color, item,
        material_group_1, product_hierarchy, is_inferred, source_report) = ROW (excluded.*)  -- all, in table order
 WHERE m IS DISTINCT FROM excluded;
