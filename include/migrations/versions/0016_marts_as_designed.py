"""The marts as designed: sales at billing-line grain, production yield per order with a rating.

view_sales_performance becomes one row per billing line (document, item, sales order, customer and
material with their names, channel and channel name); the monthly aggregate it was stays as
view_sales_monthly. view_production_yield becomes one row per order that delivered a quantity, rated
by bands. fact_billing carries the sales order (ZRSD002 "SO No."); dim_distribution_channel (channel
names) and dim_yield_rating (bands) are filled from site.yaml by each dimension build. Facts are
derived: after the upgrade, rebuild the dates whose billing lines should show their sales order
(`python -m sap_warehouse.build.layers --from D --to D`).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from alembic import op

from sap_warehouse.core.registry import view_definition

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = """
ALTER TABLE facts.fact_billing ADD COLUMN sales_order text;
CREATE TABLE dims.dim_distribution_channel (
    distribution_channel text PRIMARY KEY,
    channel_name text NOT NULL
);
COMMENT ON TABLE dims.dim_distribution_channel IS
    'Names of the distribution channels (site.yaml distribution_channels); a billed code missing here shows as '
    'Other (<code>) and raises the unmapped_channel alert.';
CREATE TABLE dims.dim_yield_rating (
    rating text PRIMARY KEY,
    min_pct numeric(6, 2) NOT NULL UNIQUE
);
COMMENT ON TABLE dims.dim_yield_rating IS
    'Yield rating bands (site.yaml yield_ratings): an order is rated by the best band whose min_pct it reaches.';
GRANT SELECT, INSERT, UPDATE, DELETE ON dims.dim_distribution_channel, dims.dim_yield_rating TO warehouse_loader;
GRANT SELECT ON dims.dim_distribution_channel, dims.dim_yield_rating TO warehouse_analyst;
"""
NEW_VIEWS = ("view_sales_performance", "view_sales_monthly", "view_production_yield")


def upgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW marts.view_sales_performance, marts.view_production_yield")
    op.execute(TABLES)
    for view in NEW_VIEWS:
        op.execute(view_definition(view, revision))
        op.execute(f"GRANT SELECT ON marts.{view} TO warehouse_loader, warehouse_analyst")


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW " + ", ".join(f"marts.{view}" for view in NEW_VIEWS))
    op.execute("DROP TABLE dims.dim_distribution_channel, dims.dim_yield_rating")
    op.execute("ALTER TABLE facts.fact_billing DROP COLUMN sales_order")
    for view in ("view_sales_performance", "view_production_yield"):
        op.execute(view_definition(view, "0001"))  # as 0001 created them; no migration since changed them
        op.execute(f"GRANT SELECT ON marts.{view} TO warehouse_loader, warehouse_analyst")
