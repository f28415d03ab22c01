"""The warehouse schema: raw, dims, facts, marts (materialized views), operations, roles.

Raw tables keep the typed columns of each SAP report (named after the real export headers in
snake_case), plus raw_data (the whole source row), source_file, source_row, business_date (the
landing date of the file that last wrote the row), loaded_at and row_hash. The largest time-based
tables are range-partitioned by month on an immutable date so retention drops whole partitions.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from sap_warehouse.core.registry import sql_definition, view_definition

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMAS = ("raw", "dims", "facts", "marts", "operations")
PARTITION_FROM = "2020-01-01"
PARTITION_TO = "2031-01-01"

RAW_COMMON = """
    business_date date NOT NULL,
    source_file text NOT NULL,
    source_row integer NOT NULL,
    row_hash char(32) NOT NULL,
    raw_data jsonb NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
"""

# (column, type) per raw table, in the order of the real export's header row. t = text,
# d = date, n = numeric(18,3), m = numeric(18,2) money, p = numeric(9,4) ratio/percent.
TYPES = {"t": "text", "d": "date", "n": "numeric(18,3)", "m": "numeric(18,2)", "p": "numeric(9,4)"}
RAW_COLUMNS: dict[str, str] = {
    "raw_mb51": """posting_date d, movement_type t, plant t, storage_location t, material t,
        material_description t, batch t, qty_in_unit_of_entry n, unit_of_entry t, cost_center t,
        gl_account t, material_document t, text t, reference t, reason_for_movement t,
        purchase_order t, order_number t, occurrence integer""",
    "raw_cooispi": """plant t, sales_order t, order_number t, order_type t, material_number t,
        basic_start_date d, release_date_actual d, actual_finish_date d, material_description t,
        bom_alternative t, batch t, system_status t, mrp_controller t, order_quantity n,
        delivered_quantity n, unit_of_measure t, created_on d, basic_finish_date d""",
    "raw_zrsd002": """billing_date d, billing_document t, sloc t, tax_classification t, top t,
        billing_type t, sales_organization t, sales_office t, dist_channel t, sold_to t, payer t,
        bill_to t, name_of_bill_to t, cust_city t, cust_group t, trans_zone t, reg_stru_group t,
        ship_to t, name_of_ship_to t, address_of_ship_to t, usage t, salesman_id t, salesman_name t,
        billing_item t, material t, material_type t, description t, item_proposal t,
        prod_hierarchy t, billing_qty n, sales_unit t, curr t, exchange_rate p, cust_pricing_proc t,
        price m, total_price m, discount_item m, discount_header m, dp m, discount m, net_value m,
        tax m, total m, net_weight n, weight_unit t, volum n, volum_unit t, cust_formula_reason t,
        so_no t, so_date d, doc_reference_od t, cancelled t, doc_cancel t, tonase n, tonase_unit t,
        created_by t, pos_status t, ins_freight_export m""",
    "raw_zrsd004": """delivery_date d, actual_gi_date d, delivery t, so_reference t, req_type t,
        delivery_type t, shipping_point t, sloc t, sales_office t, dist_channel t, cust_group t,
        sold_to_party t, ship_to_party t, name_of_ship_to t, city_of_ship_to t,
        regional_stru_grp t, transportation_zone t, salesman_id t, salesman_name t, material t,
        description t, delivery_qty n, tonase n, tonase_unit t, actual_delivery_qty n,
        sales_unit t, net_weight n, weight_unit t, volume n, volume_unit t, created_by t,
        product_hierarchy t, line_item t, total_movement_goods_stat t""",
    "raw_zrsd006": """sorg t, distribution_channel t, material_code t, mat_description t,
        mat_type t, uom t, ph_1 t, division t, ph_2 t, business t, ph_3 t, sub_business t, ph_4 t,
        product_group t, ph_5 t, product_group_1 t, ph_6 t, product_group_2 t, ph_7 t, series t,
        ph_8 t, color t, ph_9 t, item t, material_group_1 t""",
    "raw_zrfi005": """snapshot_date d, company_code t, profit_center t, distribution_channel t,
        customer_hierarchy t, customer_group t, salesman_code t, salesman_name t,
        customer_code t, customer_name t, currency t, target_1_30_days m, target_31_60_days m,
        target_61_90_days m, target_91_120_days m, target_121_180_days m, target_over_180_days m,
        total_target m, realization_not_due m, realization_1_30_days m, realization_31_60_days m,
        realization_61_90_days m, realization_91_120_days m, realization_121_180_days m,
        realization_over_180_days m, total_realization m""",
    "raw_zrmm024": """purch_order t, item t, purch_date d, suppl_plant t, dest_plant t, material t,
        material_description t, qty_order n, free_on_mm t, gross_weight n, tonnage_order n,
        tolerance_pct p, qty_tolerance n, qty_order_plus_tol n, delivery_date d, qty_gi n,
        tonnage_gi n, mat_doc_gi t, year_gi t, gi_date d, qty_receipt n, tonnage_receipt n,
        mat_doc_receipt t, year_gr t, gr_date d, qty_intransit n, tonnage_intransit n,
        gr_status t, pr_number t, pr_item t, requester t, contract_number t, contract_item t,
        compl_delv_pct p, final_delv_pct p, compl_delv t, so_number t, so_item t, od_number t,
        od_item t, qty_od n, tonnage_od n, uom_od t, od_date d, do_number t, sold_to t,
        sold_to_cust_name t, ship_to t, ship_to_cust_name t, ship_to_address t, ship_to_city t,
        ph_level_7 t, dc_1 t, dc_2 t, dc_3 t, safety_stock n, mts_mto t, size_dimension_od t""",
    "raw_zrpp062": """mrp_controller t, product_group_1 t, product_group_2 t, material t,
        material_description t, batch t, process_order t, order_sfg_liquid t,
        qty_order_sfg_liquid n, tb t, pv t, bom_alt t, bom_text t, group_recipe t,
        process_order_qty n, process_order_qty_uom t, tonase_pos n, uom_tonase t,
        system_status t, ud_status t, gi_packaging_to_order_lbl n, gi_packaging_to_order_lbl_uom t,
        gi_sfg_liquid_to_order_filling n, gi_sfg_liquid_to_order_filling_uom t,
        gr_qty_to_0201 n, tonase_alkana_0201 n, tonase_alkana_0201_uom t, gr_by_product n,
        gr_by_product_uom t, bar_sfg n, qty_allowance n, sg_theoretical p, sg_actual p,
        variant_prod_sfg_result_pct p, variant_fg_pc n, variant_fg_pct p,
        losses_fg_result_kg n, losses_fg_result_pct p, pc_to_kg_actual p, pd_manager t,
        pd_leader t""",
    "raw_cogs": """material t, plant t, standard_cost m, moving_average_cost m, currency t,
        effective_date d""",
    "raw_target": """salesman_name t, semester t, year t, target m""",
}

# Business key (unique) per raw table; partitioned tables carry their partition column in the key.
RAW_KEYS = {
    "raw_mb51": "material_document, row_hash, occurrence, posting_date",
    "raw_cooispi": "order_number",
    "raw_zrsd002": "billing_document, billing_item, billing_date",
    "raw_zrsd004": "delivery, line_item",
    "raw_zrsd006": "material_code, distribution_channel",
    "raw_zrfi005": "customer_code, distribution_channel, salesman_code, snapshot_date",
    "raw_zrmm024": "purch_order, item",
    "raw_zrpp062": "process_order, batch",
    "raw_cogs": "material, plant, effective_date",
    "raw_target": "salesman_name, semester, year",
}
RAW_PARTITION = {"raw_mb51": "posting_date", "raw_zrsd002": "billing_date"}
RAW_NOT_NULL = {
    "raw_mb51": ("posting_date", "movement_type", "plant", "material", "material_document", "occurrence"),
    "raw_zrsd002": ("billing_date",),
    "raw_zrfi005": ("snapshot_date",),
    "raw_cogs": ("effective_date",),
}


def _columns(table: str) -> str:
    cols = []
    for spec in RAW_COLUMNS[table].split(","):
        name, kind = spec.split()
        pg_type = TYPES.get(kind, kind)
        null = " NOT NULL" if name in RAW_NOT_NULL.get(table, ()) else ""
        cols.append(f"    {name} {pg_type}{null}")
    return ",\n".join(cols)


def _create_raw_tables() -> None:
    for table in RAW_COLUMNS:
        partition = RAW_PARTITION.get(table)
        suffix = f" PARTITION BY RANGE ({partition})" if partition else ""
        op.execute(
            f"CREATE TABLE raw.{table} (\n{_columns(table)},\n{RAW_COMMON},\n"
            f"    CONSTRAINT {table}_business_key UNIQUE ({RAW_KEYS[table]})\n){suffix}"
        )
        op.execute(f"CREATE INDEX {table}_business_date_idx ON raw.{table} (business_date)")
        if partition:
            op.execute(
                f"SELECT operations.create_monthly_partitions('raw.{table}', '{PARTITION_FROM}', '{PARTITION_TO}')"
            )
    op.execute("CREATE INDEX raw_mb51_material_idx ON raw.raw_mb51 (material, posting_date)")
    op.execute("CREATE INDEX raw_mb51_batch_idx ON raw.raw_mb51 (batch) WHERE batch IS NOT NULL")


PARTITION_FUNCTION = """
CREATE FUNCTION operations.create_monthly_partitions(parent regclass, from_date date, to_date date)
RETURNS integer LANGUAGE plpgsql AS $$
-- One partition per month in [from_date, to_date) named <table>_yYYYYmMM, plus a DEFAULT
-- partition; existing partitions are kept, so calling it again extends the range.
DECLARE
    month date := date_trunc('month', from_date);
    made integer := 0;
    schema_name text;
    table_name text;
BEGIN
    SELECT n.nspname, c.relname INTO schema_name, table_name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    WHILE month < to_date LOOP
        IF to_regclass(format('%I.%I', schema_name, table_name || to_char(month, '"_y"YYYY"m"MM'))) IS NULL THEN
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                           schema_name, table_name || to_char(month, '"_y"YYYY"m"MM'), parent,
                           month, (month + interval '1 month')::date);
            made := made + 1;
        END IF;
        month := (month + interval '1 month')::date;
    END LOOP;
    IF to_regclass(format('%I.%I', schema_name, table_name || '_default')) IS NULL THEN
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', schema_name, table_name || '_default', parent);
    END IF;
    RETURN made;
END $$;
"""

# Non-raising parsers for the value shapes of real SAP exports (docs/sap_exports.md): NULL means "not
# parseable", so the loader can report the row and column as a reject instead of failing the file.
REJECT_REASON = r"""
CREATE TYPE operations.reject_reason AS (column_name text, value text, reason text);
"""

DIMS = """
CREATE TABLE dims.holiday_calendar (
    calendar_date date PRIMARY KEY,
    holiday_name text NOT NULL,
    kind text NOT NULL DEFAULT 'public_holiday'
        CHECK (kind IN ('public_holiday', 'company_holiday', 'plant_shutdown', 'event'))
);
COMMENT ON TABLE dims.holiday_calendar IS
    'Editable holiday/event calendar; dim_date.is_holiday follows it at the next dimension build.';

CREATE TABLE dims.dim_date (
    calendar_date date PRIMARY KEY,
    year smallint NOT NULL,
    quarter smallint NOT NULL,
    month smallint NOT NULL,
    month_name text NOT NULL,
    year_month char(7) NOT NULL,
    day_of_month smallint NOT NULL,
    iso_day_of_week smallint NOT NULL,
    day_name text NOT NULL,
    iso_week smallint NOT NULL,
    iso_year smallint NOT NULL,
    semester smallint NOT NULL,
    is_weekend boolean NOT NULL,
    is_holiday boolean NOT NULL DEFAULT false,
    holiday_name text,
    is_working_day boolean NOT NULL
);

CREATE TABLE dims.dim_material (
    material_code text PRIMARY KEY,
    material_description text,
    material_type text CHECK (material_type IN ('FERT', 'HALB', 'ROH', 'VERP')),
    site_material_type text,
    mrp_controller text,
    base_unit text,
    division text,
    business text,
    sub_business text,
    product_group text,
    product_group_1 text,
    product_group_2 text,
    series text,
    color text,
    item text,
    material_group_1 text,
    product_hierarchy text,
    is_inferred boolean NOT NULL DEFAULT false,
    source_report text NOT NULL
);

CREATE TABLE dims.dim_customer (
    customer_code text PRIMARY KEY,
    customer_name text,
    city text,
    customer_group text,
    distribution_channel text,
    sales_office text,
    salesman_id text,
    salesman_name text,
    transportation_zone text,
    is_inferred boolean NOT NULL DEFAULT false,
    source_report text NOT NULL
);

CREATE TABLE dims.dim_location (
    plant text NOT NULL,
    storage_location text NOT NULL,
    plant_name text,
    plant_type text CHECK (plant_type IN ('factory', 'distribution_centre', 'other')),
    is_inferred boolean NOT NULL DEFAULT false,
    PRIMARY KEY (plant, storage_location)
);
COMMENT ON COLUMN dims.dim_location.storage_location IS '''#'' = posted at plant level (no storage location)';

CREATE TABLE dims.dim_movement_type (
    movement_type text PRIMARY KEY,
    description text NOT NULL,
    category text NOT NULL CHECK (category IN ('receipt', 'production_issue', 'delivery', 'transfer', 'other')),
    direction smallint CHECK (direction IN (-1, 1)),
    is_reversal boolean NOT NULL,
    reverses text
);
COMMENT ON COLUMN dims.dim_movement_type.direction IS
    'Stock direction of the movement; NULL for transfers, whose lines carry their own sign.';

CREATE TABLE dims.dim_unit_conversion (
    material_code text NOT NULL,
    unit text NOT NULL,
    kg_per_unit numeric(18, 6) NOT NULL CHECK (kg_per_unit > 0),
    derived_from text NOT NULL,
    PRIMARY KEY (material_code, unit)
);
"""

FACTS = """
CREATE TABLE facts.fact_inventory (
    movement_date date NOT NULL,
    material_code text NOT NULL,
    plant text NOT NULL,
    storage_location text NOT NULL,
    unit text NOT NULL,
    receipt_qty numeric(18, 3) NOT NULL,
    production_issue_qty numeric(18, 3) NOT NULL,
    delivery_qty numeric(18, 3) NOT NULL,
    transfer_qty numeric(18, 3) NOT NULL,
    other_qty numeric(18, 3) NOT NULL,
    reversal_qty numeric(18, 3) NOT NULL,
    net_qty numeric(18, 3) NOT NULL,
    movement_count integer NOT NULL,
    stock_value numeric(18, 2),
    PRIMARY KEY (movement_date, material_code, plant, storage_location, unit)
) PARTITION BY RANGE (movement_date);
COMMENT ON TABLE facts.fact_inventory IS
    'Net stock movement per material, location, unit and posting date (signed by movement type); '
    'the position on a date is the sum of net_qty up to that date.';

CREATE TABLE facts.fact_production (
    order_number text PRIMARY KEY,
    order_number_norm text NOT NULL,
    plant text NOT NULL,
    material_code text NOT NULL,
    order_type text,
    mrp_controller text,
    batch text,
    sales_order text,
    basic_start_date date,
    basic_finish_date date,
    release_date date,
    actual_finish_date date,
    order_qty numeric(18, 3),
    delivered_qty numeric(18, 3),
    unit text,
    yield_pct numeric(9, 2),
    system_status text,
    status text NOT NULL,
    business_date date NOT NULL
);
CREATE INDEX fact_production_norm_idx ON facts.fact_production (order_number_norm);
CREATE INDEX fact_production_batch_idx ON facts.fact_production (material_code, batch);

CREATE TABLE facts.fact_billing (
    billing_date date NOT NULL,
    billing_document text NOT NULL,
    billing_item text NOT NULL,
    billing_type text,
    customer_code text NOT NULL,
    ship_to text,
    material_code text NOT NULL,
    plant text,
    sales_office text,
    distribution_channel text,
    salesman_id text,
    billing_qty numeric(18, 3),
    sales_unit text,
    currency text NOT NULL,
    sales_amount numeric(18, 2) NOT NULL,
    cost_amount numeric(18, 2),
    gross_margin numeric(18, 2),
    net_weight_kg numeric(18, 3),
    PRIMARY KEY (billing_date, billing_document, billing_item)
) PARTITION BY RANGE (billing_date);

CREATE TABLE facts.fact_production_chain (
    parent_material text NOT NULL,
    parent_batch text NOT NULL,
    parent_order text,
    parent_level text NOT NULL CHECK (parent_level IN ('P03', 'P02', 'P01', 'RAW')),
    child_material text NOT NULL,
    child_batch text NOT NULL,
    child_order text,
    child_level text NOT NULL CHECK (child_level IN ('P03', 'P02', 'P01')),
    link_rule text NOT NULL CHECK (link_rule IN ('mb51_261_order', 'zrpp062_sfg_liquid')),
    consumed_qty numeric(18, 3),
    produced_qty numeric(18, 3),
    yield_pct numeric(9, 2),
    business_date date NOT NULL,
    PRIMARY KEY (parent_material, parent_batch, child_material, child_batch)
);
CREATE INDEX fact_production_chain_child_idx ON facts.fact_production_chain (child_material, child_batch);

CREATE TABLE facts.fact_ar_aging (
    snapshot_date date NOT NULL,
    customer_code text NOT NULL,
    distribution_channel text NOT NULL,
    salesman_code text NOT NULL,
    currency text NOT NULL,
    not_due_amount numeric(18, 2) NOT NULL,
    days_1_30_amount numeric(18, 2) NOT NULL,
    days_31_60_amount numeric(18, 2) NOT NULL,
    days_61_90_amount numeric(18, 2) NOT NULL,
    days_91_120_amount numeric(18, 2) NOT NULL,
    days_121_180_amount numeric(18, 2) NOT NULL,
    days_over_180_amount numeric(18, 2) NOT NULL,
    total_amount numeric(18, 2) NOT NULL,
    PRIMARY KEY (snapshot_date, customer_code, distribution_channel, salesman_code)
);

CREATE TABLE facts.fact_alert (
    alert_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_code text NOT NULL,
    entity_key text NOT NULL,
    severity text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'acknowledged', 'resolved')),
    message text NOT NULL,
    current_value numeric,
    threshold_value numeric,
    first_business_date date NOT NULL,
    last_business_date date NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    acknowledged_by text,
    resolved_at timestamptz,
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX fact_alert_one_open_per_entity
    ON facts.fact_alert (rule_code, entity_key) WHERE status <> 'resolved';
"""

VIEWS = ("view_inventory_summary", "view_sales_performance", "view_production_yield", "view_ar_aging")

OPERATIONS = """
CREATE TABLE operations.etl_run_log (
    run_log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dag_id text NOT NULL,
    run_id text NOT NULL,
    task_id text NOT NULL,
    business_date date NOT NULL,
    step text NOT NULL,
    rows_affected bigint,
    details jsonb NOT NULL DEFAULT '{}',
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX etl_run_log_date_idx ON operations.etl_run_log (business_date, dag_id);

CREATE TABLE operations.etl_file_ledger (
    file_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    path text NOT NULL,
    file_name text NOT NULL,
    report text,
    business_date date NOT NULL,
    sha256 char(64),
    size_bytes bigint,
    status text NOT NULL CHECK (status IN ('loaded', 'duplicate', 'quarantined', 'missing')),
    reader text,
    rows_read integer NOT NULL DEFAULT 0,
    rows_inserted integer NOT NULL DEFAULT 0,
    rows_updated integer NOT NULL DEFAULT 0,
    rows_unchanged integer NOT NULL DEFAULT 0,
    rows_rejected integer NOT NULL DEFAULT 0,
    reason text,
    dag_id text,
    run_id text,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT etl_file_ledger_rows_add_up CHECK (
        rows_read = rows_inserted + rows_updated + rows_unchanged + rows_rejected)
);
CREATE INDEX etl_file_ledger_sha_idx ON operations.etl_file_ledger (sha256, report) WHERE status = 'loaded';
CREATE INDEX etl_file_ledger_date_idx ON operations.etl_file_ledger (business_date, report);

CREATE TABLE operations.etl_row_reject (
    reject_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_id bigint NOT NULL REFERENCES operations.etl_file_ledger ON DELETE CASCADE,
    source_file text NOT NULL,
    source_row integer NOT NULL,
    column_name text,
    value text,
    reason text NOT NULL
);
CREATE INDEX etl_row_reject_file_idx ON operations.etl_row_reject (file_id);

CREATE TABLE operations.dq_validation_result (
    result_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    suite_name text NOT NULL,
    business_date date NOT NULL,
    run_id text NOT NULL,
    success boolean NOT NULL,
    statistics jsonb NOT NULL DEFAULT '{}',
    failures jsonb NOT NULL DEFAULT '[]',
    validated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX dq_validation_result_date_idx ON operations.dq_validation_result (business_date, suite_name);
"""

DIM_DATE_FILL = """
INSERT INTO dims.holiday_calendar (calendar_date, holiday_name)
SELECT make_date(y, h.month, h.day), h.name
  FROM generate_series(2020, 2030) AS y,
       (VALUES (1, 1, 'New Year''s Day'), (4, 30, 'Reunification Day'),
               (5, 1, 'International Labour Day'), (9, 2, 'National Day')) AS h(month, day, name);

INSERT INTO dims.dim_date
SELECT d::date,
       extract(year FROM d), extract(quarter FROM d), extract(month FROM d),
       to_char(d, 'FMMonth'), to_char(d, 'YYYY-MM'), extract(day FROM d),
       extract(isodow FROM d), to_char(d, 'FMDay'), extract(week FROM d), extract(isoyear FROM d),
       CASE WHEN extract(month FROM d) <= 6 THEN 1 ELSE 2 END,
       extract(isodow FROM d) IN (6, 7),
       h.calendar_date IS NOT NULL, h.holiday_name,
       extract(isodow FROM d) NOT IN (6, 7) AND h.calendar_date IS NULL
  FROM generate_series(date '2020-01-01', date '2030-12-31', interval '1 day') AS d
  LEFT JOIN dims.holiday_calendar h ON h.calendar_date = d::date;
"""

ROLES = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warehouse_loader') THEN
        CREATE ROLE warehouse_loader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warehouse_analyst') THEN
        CREATE ROLE warehouse_analyst NOLOGIN;
    END IF;
END $$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
"""


def _grants() -> None:
    for schema in SCHEMAS:
        op.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO warehouse_loader")
        op.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO warehouse_loader")
        op.execute(f"GRANT USAGE ON SCHEMA {schema} TO warehouse_analyst")
        op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO warehouse_analyst")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO warehouse_analyst")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT ALL ON TABLES TO warehouse_loader")
    op.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA operations, facts TO warehouse_loader")
    op.execute(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = "
        "raw, dims, facts, marts, operations, public', current_database()); END $$"
    )


def upgrade() -> None:
    op.execute(ROLES)
    for schema in SCHEMAS:
        op.execute(f"CREATE SCHEMA {schema}")
    op.execute(PARTITION_FUNCTION)
    op.execute(REJECT_REASON)
    op.execute(sql_definition("parsers/cell_parsers", revision))
    _create_raw_tables()
    op.execute(DIMS)
    op.execute(FACTS)
    op.execute(
        f"SELECT operations.create_monthly_partitions('facts.fact_inventory', '{PARTITION_FROM}', '{PARTITION_TO}')"
    )
    op.execute(
        f"SELECT operations.create_monthly_partitions('facts.fact_billing', '{PARTITION_FROM}', '{PARTITION_TO}')"
    )
    for view in VIEWS:
        op.execute(view_definition(view, revision))
    op.execute(OPERATIONS)
    op.execute(DIM_DATE_FILL)
    _grants()


def downgrade() -> None:
    op.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET search_path', current_database()); END $$")
    for schema in reversed(SCHEMAS):
        op.execute(f"DROP SCHEMA {schema} CASCADE")
    # Roles are cluster-wide: they stay while another database still grants them anything.
    op.execute("""
        DO $$ BEGIN
            DROP ROLE IF EXISTS warehouse_analyst;
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'warehouse_analyst kept: other databases still grant it privileges';
        END $$""")
