"""Public holidays from the ``holidays`` library; several named rows per date; the plant's events.

Until now the calendar held four fixed-date holidays a year, so Tet and Hung Kings' day (lunar) were
working days. dims.holiday_calendar now keys on (calendar_date, holiday_name), so a date may carry
several holidays or events, and says where each row came from: ``library`` rows are the public holidays
of the country of site.yaml as the ``holidays`` library gives them (sap_warehouse.operations.horizon.sync_holidays
keeps them current; the maintenance DAG runs it), ``plant`` rows are the plant's own (company holidays,
shutdowns, events), edited by hand and never touched by the sync. dims.dim_date gets ``events`` (the
names of the date's events; they do not make it a holiday). operations.extend_horizon no longer adds
fixed holidays: the sync does, for the whole calendar. This migration runs the sync for the calendar's
years, so a migrated warehouse has Tet right away.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

import runpy
from pathlib import Path

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# extend_horizon as 0010 made it, without its fixed holidays: the dates it adds are working days
# (weekends aside) until sync_holidays, which extend() runs right after it, marks their holidays.
EXTEND_HORIZON_0010 = runpy.run_path(str(Path(__file__).with_name("0010_extending_horizon.py")))["EXTEND_HORIZON"]
FIXED_HOLIDAYS = EXTEND_HORIZON_0010[
    EXTEND_HORIZON_0010.index("    INSERT INTO dims.holiday_calendar") : EXTEND_HORIZON_0010.index(
        "    INSERT INTO dims.dim_date"
    )
]
HOLIDAY_COLUMNS = (
    "           h.calendar_date IS NOT NULL, h.holiday_name,\n"
    "           extract(isodow FROM d) NOT IN (6, 7) AND h.calendar_date IS NULL\n"
    "      FROM generate_series(last_day + 1, through, interval '1 day') AS d\n"
    "      LEFT JOIN dims.holiday_calendar h ON h.calendar_date = d::date;"
)
assert HOLIDAY_COLUMNS in EXTEND_HORIZON_0010, "0010's extend_horizon is not the text this migration edits"
EXTEND_HORIZON = (
    EXTEND_HORIZON_0010.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    .replace(FIXED_HOLIDAYS, "")
    .replace(
        HOLIDAY_COLUMNS,
        "           false, NULL, extract(isodow FROM d) NOT IN (6, 7)\n"
        "      FROM generate_series(last_day + 1, through, interval '1 day') AS d;",
    )
)

SCHEMA = """
ALTER TABLE dims.holiday_calendar ADD COLUMN source text NOT NULL DEFAULT 'plant'
    CHECK (source IN ('library', 'plant'));
-- The fixed-date rows the migrations seeded: the library's from now on (the sync replaces them).
UPDATE dims.holiday_calendar SET source = 'library'
 WHERE kind = 'public_holiday'
   AND holiday_name IN ('New Year''s Day', 'Reunification Day', 'International Labour Day', 'National Day');
ALTER TABLE dims.holiday_calendar DROP CONSTRAINT holiday_calendar_pkey,
    ADD PRIMARY KEY (calendar_date, holiday_name);
COMMENT ON TABLE dims.holiday_calendar IS
    'Holidays and events, several per date. source library: public holidays from the holidays library '
    '(kept current by the maintenance DAG); source plant: company holidays, shutdowns and events, edited '
    'by hand. dims.dim_date follows at the next dimension build.';
ALTER TABLE dims.dim_date ADD COLUMN events text;
COMMENT ON COLUMN dims.dim_date.events IS
    'Names of the plant''s events of the date (dims.holiday_calendar kind event).';
"""


def upgrade() -> None:
    from sap_warehouse.operations.horizon import sync_holidays

    op.execute(SCHEMA)
    op.execute(EXTEND_HORIZON)
    conn = op.get_bind()
    first, last = conn.exec_driver_sql("SELECT min(calendar_date), max(calendar_date) FROM dims.dim_date").one()
    sync_holidays(conn.connection.driver_connection, first.year, last.year)


def downgrade() -> None:
    op.execute(EXTEND_HORIZON_0010.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    op.execute(
        """
        ALTER TABLE dims.dim_date DROP COLUMN events;
        DELETE FROM dims.holiday_calendar h USING dims.holiday_calendar o
         WHERE o.calendar_date = h.calendar_date AND o.holiday_name < h.holiday_name;
        ALTER TABLE dims.holiday_calendar DROP CONSTRAINT holiday_calendar_pkey, ADD PRIMARY KEY (calendar_date),
            DROP COLUMN source;
        """
    )
