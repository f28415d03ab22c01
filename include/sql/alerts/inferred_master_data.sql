-- inferred_master_data (data alert): facts that name a material or customer the master data does not
-- know (an inferred dimension member, made so the fact could load). Clears when the master data
-- (ZRSD006 for materials; billing, AR or delivery lines for customers) arrives and the member is no
-- longer inferred.
WITH inferred (kind, code, source_report, master) AS (
    SELECT 'material', m.material_code, m.source_report, 'material master'
      FROM dims.dim_material m
     WHERE m.is_inferred
       AND (m.material_code IN (SELECT material_code FROM facts.fact_inventory)
            OR m.material_code IN (SELECT material_code FROM facts.fact_billing)
            OR m.material_code IN (SELECT material_code FROM facts.fact_production))
    UNION ALL
    SELECT 'customer', c.customer_code, c.source_report, 'customer data'
      FROM dims.dim_customer c
     WHERE c.is_inferred
       AND (c.customer_code IN (SELECT customer_code FROM facts.fact_billing)
            OR c.customer_code IN (SELECT customer_code FROM facts.fact_ar_aging))
)
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'inferred_master_data', kind || ':' || code, 'warning', NULL, NULL,
       format('%%s %%s is used by the facts but missing from the %%s (first seen in %%s)',
              initcap(kind), code, master, source_report),
       jsonb_build_object(kind, code, 'source_report', source_report)
  FROM inferred;
