"""The warehouse model: lookup indexes for the per-date builds, AR aging with collections, genealogy
units, stock value in the inventory view.

Every build step rebuilds one business date's slice by looking up the rows of the codes that date
touched; the indexes here keep that lookup independent of how much history the raw tables hold.
fact_ar_aging keeps what ZRFI005 says: the open amounts per age bucket (Target ...) and what was
collected against them (Realization ...). Facts are derived data: a downgrade drops the new columns
and the next run of a date rebuilds them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

from sap_warehouse.core.registry import view_definition

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = {
    "raw_cooispi_material_idx": (
        "raw.raw_cooispi (material_number, basic_finish_date DESC NULLS LAST, order_number DESC)"
    ),
    "raw_cooispi_order_norm_idx": "raw.raw_cooispi (ltrim(order_number, '0'))",
    "raw_cooispi_batch_idx": "raw.raw_cooispi (material_number, batch) WHERE batch IS NOT NULL",
    "raw_mb51_order_norm_idx": "raw.raw_mb51 (ltrim(order_number, '0')) WHERE order_number IS NOT NULL",
    "raw_mb51_reference_idx": "raw.raw_mb51 (reference) WHERE reference IS NOT NULL",
    "raw_zrsd002_material_idx": "raw.raw_zrsd002 (material, billing_date)",
    "raw_zrsd002_bill_to_idx": "raw.raw_zrsd002 (bill_to, billing_date)",
    "raw_zrsd002_delivery_idx": "raw.raw_zrsd002 (doc_reference_od)",
    "raw_zrsd004_material_idx": "raw.raw_zrsd004 (material, delivery_date)",
    "raw_zrsd004_ship_to_idx": "raw.raw_zrsd004 (ship_to_party, delivery_date)",
    "raw_zrsd004_delivery_idx": "raw.raw_zrsd004 (delivery)",
    "raw_zrmm024_material_idx": "raw.raw_zrmm024 (material, purch_order DESC, item DESC)",
    "raw_zrpp062_material_idx": "raw.raw_zrpp062 (material, process_order DESC, batch DESC)",
    "raw_zrpp062_sfg_norm_idx": "raw.raw_zrpp062 (ltrim(order_sfg_liquid, '0'))",
    "raw_zrfi005_customer_idx": "raw.raw_zrfi005 (customer_code, snapshot_date)",
    "fact_production_chain_date_idx": "facts.fact_production_chain (business_date)",
}

AR_AGING = """
DROP MATERIALIZED VIEW marts.view_ar_aging;
ALTER TABLE facts.fact_ar_aging DROP COLUMN not_due_amount;
ALTER TABLE facts.fact_ar_aging
    ADD COLUMN customer_group text,
    ADD COLUMN collected_not_due_amount numeric(18, 2) NOT NULL DEFAULT 0,
    ADD COLUMN collected_1_90_amount numeric(18, 2) NOT NULL DEFAULT 0,
    ADD COLUMN collected_91_180_amount numeric(18, 2) NOT NULL DEFAULT 0,
    ADD COLUMN collected_over_180_amount numeric(18, 2) NOT NULL DEFAULT 0,
    ADD COLUMN collected_total_amount numeric(18, 2) NOT NULL DEFAULT 0;
COMMENT ON TABLE facts.fact_ar_aging IS
    'ZRFI005 snapshot per business date: open amounts per age bucket (Target columns) and the amounts '
    'collected against them (Realization columns). One snapshot per date; history is kept.';
"""

AR_AGING_DOWN = """
DROP MATERIALIZED VIEW marts.view_ar_aging;
ALTER TABLE facts.fact_ar_aging
    DROP COLUMN customer_group, DROP COLUMN collected_not_due_amount, DROP COLUMN collected_1_90_amount,
    DROP COLUMN collected_91_180_amount, DROP COLUMN collected_over_180_amount, DROP COLUMN collected_total_amount,
    ADD COLUMN not_due_amount numeric(18, 2) NOT NULL DEFAULT 0;
"""

CHAIN = """
ALTER TABLE facts.fact_production_chain
    ADD COLUMN consumed_unit text,
    ADD COLUMN produced_unit text,
    ADD COLUMN consumed_kg numeric(18, 3),
    ADD COLUMN produced_kg numeric(18, 3);
COMMENT ON COLUMN facts.fact_production_chain.yield_pct IS
    'produced_kg / consumed_kg * 100, units converted with dims.dim_unit_conversion; NULL when a unit has no '
    'known weight.';
"""

GRANTS = "GRANT SELECT ON marts.view_ar_aging, marts.view_inventory_summary TO warehouse_analyst"


def upgrade() -> None:
    for name, target in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {target}")
    op.execute(AR_AGING)
    op.execute(view_definition("view_ar_aging", revision))
    op.execute(CHAIN)
    op.execute("DROP MATERIALIZED VIEW marts.view_inventory_summary")
    op.execute(view_definition("view_inventory_summary", revision))
    op.execute(GRANTS)


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW marts.view_inventory_summary")
    op.execute(view_definition("view_inventory_summary", down_revision))
    op.execute(
        "ALTER TABLE facts.fact_production_chain DROP COLUMN consumed_unit, DROP COLUMN produced_unit, "
        "DROP COLUMN consumed_kg, DROP COLUMN produced_kg"
    )
    op.execute(AR_AGING_DOWN)
    op.execute(view_definition("view_ar_aging", down_revision))
    for name, target in INDEXES.items():
        op.execute(f"DROP INDEX {target.split(' ')[0].split('.')[0]}.{name}")
    op.execute(GRANTS)
