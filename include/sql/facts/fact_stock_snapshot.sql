-- facts.fact_stock_snapshot for the business dates %(business_dates)s: each date's MB52 counts (the
-- lines no newer count of their plant superseded), per material, plant, storage location and unit,
-- batches summed. on_hand_qty is the stock MB51 movements change at a storage location: unrestricted,
-- quality inspection, restricted, blocked and returns; transit_qty (stock between places) is kept
-- beside it. stock_value sums the count's own value columns of the same stocks (NULL when the layout
-- carries none). A blank storage location is '#', as in facts.fact_inventory.
DELETE FROM facts.fact_stock_snapshot WHERE snapshot_date = ANY(%(business_dates)s::date[]);

INSERT INTO facts.fact_stock_snapshot (
    snapshot_date, material_code, plant, storage_location, unit, unrestricted_qty, quality_qty, restricted_qty,
    blocked_qty, returns_qty, transit_qty, on_hand_qty, stock_value, currency, batch_count)
SELECT r.snapshot_date, r.material, r.plant, coalesce(r.storage_location, '#'), r.base_unit_of_measure,
       coalesce(sum(r.unrestricted), 0), coalesce(sum(r.in_quality_insp), 0), coalesce(sum(r.restricted_use), 0),
       coalesce(sum(r.blocked), 0), coalesce(sum(r.returns), 0), coalesce(sum(r.transit_and_transfer), 0),
       coalesce(sum(r.unrestricted), 0) + coalesce(sum(r.in_quality_insp), 0) + coalesce(sum(r.restricted_use), 0)
           + coalesce(sum(r.blocked), 0) + coalesce(sum(r.returns), 0),
       sum(coalesce(r.value_unrestricted, 0) + coalesce(r.value_in_qualinsp, 0) + coalesce(r.value_restricted, 0)
           + coalesce(r.value_blocked, 0) + coalesce(r.value_returns, 0))
           FILTER (WHERE num_nonnulls(r.value_unrestricted, r.value_in_qualinsp, r.value_restricted, r.value_blocked,
                                      r.value_returns) > 0),
       min(r.currency),
       count(*)
  FROM raw.raw_mb52 r
 WHERE r.snapshot_date = ANY(%(business_dates)s::date[])
   AND r.superseded_on IS NULL
 GROUP BY r.snapshot_date, r.material, r.plant, coalesce(r.storage_location, '#'), r.base_unit_of_measure;
