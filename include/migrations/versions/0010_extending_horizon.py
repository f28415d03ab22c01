"""The warehouse's calendar extends itself: operations.extend_horizon(through).

dims.dim_date and the monthly partitions were made once, for 2020-01-01..2030-12-31, so every run
from 2031-01-01 would fail. operations.extend_horizon(through) adds the calendar days (with the fixed
public holidays of their years) and, for every range-partitioned table of the raw and facts schemas,
the monthly partitions from the last one made up to the month holding ``through``; the maintenance
DAG calls it to keep two years ahead. Partitions retention dropped are never made again (it extends
from the newest partition only). create_monthly_partitions now moves rows that were waiting in the
DEFAULT partition for a month into that month's new partition, instead of failing on them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CREATE_MONTHLY_PARTITIONS = """
CREATE OR REPLACE FUNCTION operations.create_monthly_partitions(parent regclass, from_date date, to_date date)
RETURNS integer LANGUAGE plpgsql AS $$
-- One partition per month in [from_date, to_date) named <table>_yYYYYmMM, plus a DEFAULT
-- partition; existing partitions are kept, so calling it again extends the range. Rows the DEFAULT
-- partition holds for a new month move into that month's partition.
DECLARE
    month date := date_trunc('month', from_date);
    made integer := 0;
    schema_name text;
    table_name text;
    key_column text;
    column_list text;
    waiting boolean;
BEGIN
    SELECT n.nspname, c.relname INTO schema_name, table_name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    SELECT a.attname INTO key_column
      FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
     WHERE p.partrelid = parent;
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO column_list
      FROM pg_attribute WHERE attrelid = parent AND attnum > 0 AND NOT attisdropped;
    IF to_regclass(format('%I.%I', schema_name, table_name || '_default')) IS NULL THEN
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', schema_name, table_name || '_default', parent);
    END IF;
    WHILE month < to_date LOOP
        IF to_regclass(format('%I.%I', schema_name, table_name || to_char(month, '"_y"YYYY"m"MM'))) IS NULL THEN
            EXECUTE format('SELECT EXISTS (SELECT FROM %I.%I WHERE %I >= %L AND %I < %L)',
                           schema_name, table_name || '_default', key_column, month, key_column,
                           (month + interval '1 month')::date) INTO waiting;
            IF waiting THEN
                EXECUTE format('ALTER TABLE %s DETACH PARTITION %I.%I', parent, schema_name, table_name || '_default');
            END IF;
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                           schema_name, table_name || to_char(month, '"_y"YYYY"m"MM'), parent,
                           month, (month + interval '1 month')::date);
            IF waiting THEN
                EXECUTE format('WITH moved AS (DELETE FROM %I.%I WHERE %I >= %L AND %I < %L RETURNING %s) '
                               'INSERT INTO %s (%s) SELECT %s FROM moved',
                               schema_name, table_name || '_default', key_column, month, key_column,
                               (month + interval '1 month')::date, column_list, parent, column_list, column_list);
                EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I DEFAULT', parent, schema_name,
                               table_name || '_default');
            END IF;
            made := made + 1;
        END IF;
        month := (month + interval '1 month')::date;
    END LOOP;
    RETURN made;
END $$;
"""

EXTEND_HORIZON = r"""
CREATE FUNCTION operations.extend_horizon(through date)
RETURNS TABLE (partitions_made integer, dates_added integer, calendar_ends date)
LANGUAGE plpgsql AS $$
-- Calendar days and monthly partitions up to and including ``through``; returns what it added and
-- where dims.dim_date now ends. Calling it again with the same date adds nothing.
DECLARE
    parent regclass;
    newest date;
    last_day date;
BEGIN
    partitions_made := 0;
    FOR parent IN
        SELECT p.partrelid::regclass FROM pg_partitioned_table p
          JOIN pg_class c ON c.oid = p.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('raw', 'facts') AND p.partstrat = 'r' ORDER BY 1
    LOOP
        SELECT max(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''(\d{4}-\d{2}-\d{2})''\)')::date)
          INTO newest
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = parent;
        partitions_made := partitions_made + operations.create_monthly_partitions(
            parent, coalesce(newest, date_trunc('month', through)::date), through + 1);
    END LOOP;

    SELECT max(calendar_date) INTO last_day FROM dims.dim_date;
    INSERT INTO dims.holiday_calendar (calendar_date, holiday_name)
    SELECT make_date(y, h.month, h.day), h.name
      FROM generate_series(extract(year FROM last_day + 1)::integer, extract(year FROM through)::integer) AS y,
           (VALUES (1, 1, 'New Year''s Day'), (4, 30, 'Reunification Day'),
                   (5, 1, 'International Labour Day'), (9, 2, 'National Day')) AS h(month, day, name)
     WHERE make_date(y, h.month, h.day) > last_day
    ON CONFLICT (calendar_date) DO NOTHING;
    INSERT INTO dims.dim_date
    SELECT d::date,
           extract(year FROM d), extract(quarter FROM d), extract(month FROM d),
           to_char(d, 'FMMonth'), to_char(d, 'YYYY-MM'), extract(day FROM d),
           extract(isodow FROM d), to_char(d, 'FMDay'), extract(week FROM d), extract(isoyear FROM d),
           CASE WHEN extract(month FROM d) <= 6 THEN 1 ELSE 2 END,
           extract(isodow FROM d) IN (6, 7),
           h.calendar_date IS NOT NULL, h.holiday_name,
           extract(isodow FROM d) NOT IN (6, 7) AND h.calendar_date IS NULL
      FROM generate_series(last_day + 1, through, interval '1 day') AS d
      LEFT JOIN dims.holiday_calendar h ON h.calendar_date = d::date;
    GET DIAGNOSTICS dates_added = ROW_COUNT;
    SELECT max(calendar_date) INTO calendar_ends FROM dims.dim_date;
    RETURN NEXT;
END $$;
"""


def upgrade() -> None:
    op.execute(CREATE_MONTHLY_PARTITIONS)
    op.execute(EXTEND_HORIZON)


def downgrade() -> None:
    op.execute("DROP FUNCTION operations.extend_horizon(date)")
