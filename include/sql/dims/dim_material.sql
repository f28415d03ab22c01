-- dims.dim_material: materials moved in the files of business date %(business_date)s. Until the
-- material master (ZRSD006) provides a material, it is an inferred member described by its most
-- recent MB51 line (latest posting date; ties broken by document and row hash, so the result does
-- not depend on the order dates were loaded in).
INSERT INTO dims.dim_material AS m (material_code, material_description, base_unit, is_inferred, source_report)
SELECT t.material, latest.material_description, latest.unit_of_entry, true, 'mb51'
  FROM (SELECT DISTINCT material FROM raw.raw_mb51 WHERE business_date = %(business_date)s) t
 CROSS JOIN LATERAL (
        SELECT r.material_description, r.unit_of_entry
          FROM raw.raw_mb51 r
         WHERE r.material = t.material
         ORDER BY r.posting_date DESC, r.material_document DESC, r.row_hash DESC, r.occurrence DESC
         LIMIT 1) latest
ON CONFLICT (material_code) DO UPDATE
   SET material_description = excluded.material_description, base_unit = excluded.base_unit
 WHERE m.source_report = 'mb51'
   AND (m.material_description, m.base_unit) IS DISTINCT FROM (excluded.material_description, excluded.base_unit);
