-- inferred_master_data (data alert, info): facts that name materials or customers the master data does
-- not know (inferred dimension members, made so the facts could load), ONE alert per kind and report
-- that first named them: how many, the first ten, every code in details.codes. Nobody has to act on
-- it today (the facts are loaded; only names and groupings are missing): whoever keeps the master
-- data adds them to the next ZRSD006 export. Clears when the master data (ZRSD006 for materials;
-- billing, AR or delivery lines for customers) arrives and no member of the group is inferred.
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
SELECT 'inferred_master_data', kind || 's:' || source_report, 'info', count(*), NULL,
       format('%%s %%s(s) used by the facts are missing from the %%s (first seen in %%s): %%s%%s',
              count(*), kind, master, source_report,
              string_agg(code, ', ' ORDER BY code) FILTER (WHERE rank <= 10),
              CASE WHEN count(*) > 10 THEN format(' and %%s more (sapwh alerts show <#>)', count(*) - 10) ELSE '' END),
       jsonb_build_object('kind', kind, 'source_report', source_report,
                          'codes', jsonb_agg(code ORDER BY code))
  FROM (SELECT i.*, row_number() OVER (PARTITION BY kind, source_report ORDER BY code) AS rank FROM inferred i) r
 GROUP BY kind, source_report, master;
