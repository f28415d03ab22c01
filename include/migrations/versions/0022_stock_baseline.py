"""Stock with a baseline: MB52 counts, stock on hand as of a date, and the count-against-movements check.

MB51 is a journal of a few weeks of movements, so their sum is a change, not a stock. MB52 (warehouse
stocks on hand) is a count: raw.raw_mb52 holds its lines (a snapshot of each plant on its date, so a
line a newer count of the plant lacks is superseded), facts.fact_stock_snapshot the count per
material, plant, storage location and unit. facts.stock_on_hand(as_of) is stock on hand as of a date:
the plant's latest count on or before it plus the net movements posted after that count, up to the
date; NULL (no baseline) where the plant was never counted. marts.view_inventory_summary shows it
(current), marts.view_stock_reconciliation holds each count against the previous count of its plant
plus the movements between them (the stock_drift alert reads it).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from alembic import op

from sap_warehouse.core.registry import view_definition

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE raw.raw_mb52 (
    snapshot_date date NOT NULL,
    material text,
    material_description text,
    plant text,
    plant_name text,
    storage_location text,
    storage_location_name text,
    batch text,
    base_unit_of_measure text,
    unrestricted numeric(18, 3),
    currency text,
    value_unrestricted numeric(18, 2),
    transit_and_transfer numeric(18, 3),
    value_in_transit numeric(18, 2),
    in_quality_insp numeric(18, 3),
    value_in_qualinsp numeric(18, 2),
    restricted_use numeric(18, 3),
    value_restricted numeric(18, 2),
    blocked numeric(18, 3),
    value_blocked numeric(18, 2),
    returns numeric(18, 3),
    value_returns numeric(18, 2),
    material_type text,
    material_group text,
    business_date date NOT NULL,
    source_file text NOT NULL,
    source_row integer NOT NULL,
    row_hash char(32) NOT NULL,
    raw_data jsonb NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    superseded_on date,
    superseded_by text,
    -- blank storage location and batch are values of the key (a line at plant level, a material without batches)
    CONSTRAINT raw_mb52_business_key
        UNIQUE NULLS NOT DISTINCT (plant, storage_location, material, batch, snapshot_date)
);
CREATE INDEX raw_mb52_business_date_idx ON raw.raw_mb52 (business_date);
COMMENT ON TABLE raw.raw_mb52 IS
    'MB52 warehouse stocks on hand: one line per plant, storage location, material and batch at the end of '
    'snapshot_date (the business date the file landed on).';

CREATE TABLE facts.fact_stock_snapshot (
    snapshot_date date NOT NULL,
    material_code text NOT NULL,
    plant text NOT NULL,
    storage_location text NOT NULL,
    unit text NOT NULL,
    unrestricted_qty numeric(18, 3) NOT NULL,
    quality_qty numeric(18, 3) NOT NULL,
    restricted_qty numeric(18, 3) NOT NULL,
    blocked_qty numeric(18, 3) NOT NULL,
    returns_qty numeric(18, 3) NOT NULL,
    transit_qty numeric(18, 3) NOT NULL,
    on_hand_qty numeric(18, 3) NOT NULL,
    stock_value numeric(18, 2),
    currency text,
    batch_count integer NOT NULL,
    PRIMARY KEY (plant, snapshot_date, material_code, storage_location, unit)
);
COMMENT ON TABLE facts.fact_stock_snapshot IS
    'MB52 counts per material, plant, storage location and unit (batches summed). on_hand_qty = unrestricted + '
    'quality inspection + restricted + blocked + returns: the stock MB51 movements change at a storage location; '
    'transit_qty (between plants or locations) is shown, not part of it.';
COMMENT ON COLUMN facts.fact_stock_snapshot.storage_location IS '# where the count line names no storage location';

GRANT SELECT, INSERT, UPDATE, DELETE ON raw.raw_mb52, facts.fact_stock_snapshot TO warehouse_loader;
GRANT SELECT ON raw.raw_mb52, facts.fact_stock_snapshot TO warehouse_analyst;
"""

STOCK_ON_HAND = """
CREATE FUNCTION facts.stock_on_hand(as_of date)
RETURNS TABLE (material_code text, plant text, storage_location text, unit text, baseline_date date,
               baseline_qty numeric, movement_qty numeric, on_hand_qty numeric, window_net_qty numeric,
               last_movement_date date)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    -- Each plant's latest count on or before the date: the baseline of all its positions.
    WITH counted AS (
        SELECT s.plant, max(s.snapshot_date) AS baseline_date
          FROM facts.fact_stock_snapshot s
         WHERE s.snapshot_date <= as_of
         GROUP BY s.plant
    ), moved AS (
        SELECT f.material_code, f.plant, f.storage_location, f.unit,
               sum(f.net_qty) AS window_net_qty,
               sum(f.net_qty) FILTER (WHERE f.movement_date > c.baseline_date) AS movement_qty,
               max(f.movement_date) AS last_movement_date
          FROM facts.fact_inventory f
          LEFT JOIN counted c ON c.plant = f.plant
         WHERE f.movement_date <= as_of
         GROUP BY f.material_code, f.plant, f.storage_location, f.unit
    ), base AS (
        SELECT s.material_code, s.plant, s.storage_location, s.unit, s.on_hand_qty
          FROM facts.fact_stock_snapshot s
          JOIN counted c ON c.plant = s.plant AND c.baseline_date = s.snapshot_date
    )
    SELECT material_code, plant, storage_location, unit, c.baseline_date,
           CASE WHEN c.baseline_date IS NOT NULL THEN coalesce(b.on_hand_qty, 0) END,
           CASE WHEN c.baseline_date IS NOT NULL THEN coalesce(m.movement_qty, 0) END,
           CASE WHEN c.baseline_date IS NOT NULL THEN coalesce(b.on_hand_qty, 0) + coalesce(m.movement_qty, 0) END,
           coalesce(m.window_net_qty, 0),
           m.last_movement_date
      FROM moved m
      FULL JOIN base b USING (material_code, plant, storage_location, unit)
      LEFT JOIN counted c USING (plant)
$$;
COMMENT ON FUNCTION facts.stock_on_hand(date) IS
    'Stock on hand per material, plant, storage location and unit as of a date: the plant''s latest MB52 count '
    'on or before it (baseline_date, baseline_qty; 0 for a position the count did not list) plus the net MB51 '
    'movements posted after the count up to the date (movement_qty). on_hand_qty is NULL where the plant has no '
    'count yet: unknown, with window_net_qty (every movement known up to the date) beside it. A material that '
    'neither moved nor was counted has no row.';
"""
VIEWS = ("view_inventory_summary", "view_stock_reconciliation")


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(STOCK_ON_HAND)
    op.execute("DROP MATERIALIZED VIEW marts.view_inventory_summary")
    for view in VIEWS:
        op.execute(view_definition(view, revision))
        op.execute(f"GRANT SELECT ON marts.{view} TO warehouse_loader, warehouse_analyst")


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW marts.view_stock_reconciliation, marts.view_inventory_summary")
    op.execute("DROP FUNCTION facts.stock_on_hand(date)")
    op.execute("DROP TABLE facts.fact_stock_snapshot, raw.raw_mb52")
    op.execute(view_definition("view_inventory_summary", "0002"))
    op.execute("GRANT SELECT ON marts.view_inventory_summary TO warehouse_loader, warehouse_analyst")
