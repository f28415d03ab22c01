-- revision: 0006
-- The cell parsers the raw load types every cell with (raw_load.typed): non-raising, NULL meaning "not
-- parseable", so the loader reports the row and column as a reject instead of failing the file. They
-- read the value shapes of real SAP exports (docs/sap_exports.md). Migration 0006 created this
-- definition (cheaper code and text parsers: the regex runs only on cells with a '.', and an all-ASCII
-- cell is already NFC); history/ keeps the ones older migrations create.
CREATE OR REPLACE FUNCTION operations.sap_make_date(y integer, m integer, d integer) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    CASE WHEN y BETWEEN 1900 AND 2999 AND m BETWEEN 1 AND 12 AND d >= 1
              AND d <= (ARRAY[31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[m]
                       + CASE WHEN m = 2 AND y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0) THEN 1 ELSE 0 END
         THEN make_date(y, m, d) END;

-- Cheapest test first: what the reader stages for date-typed cells (ISO), then Excel serials,
-- then SAP text dates.
CREATE OR REPLACE FUNCTION operations.sap_date(value text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    CASE
        WHEN value IS NULL THEN NULL
        -- ISO date or timestamp (what a typed date cell reads as)
        WHEN value ~ '^\d{4}-\d{2}-\d{2}([ T].*)?$'
            THEN operations.sap_make_date(substr(value, 1, 4)::integer, substr(value, 6, 2)::integer,
                                          substr(value, 9, 2)::integer)
        -- Excel serial day number (date-styled numeric cell), possibly with a time fraction
        WHEN value ~ '^\d{1,6}(\.\d+)?([eE]0)?$' AND value::numeric BETWEEN 1 AND 401768
            THEN date '1899-12-30' + floor(value::numeric)::integer
        -- SAP text date dd.mm.yyyy
        WHEN btrim(value) ~ '^\d{1,2}\.\d{1,2}\.\d{4}$'
            THEN operations.sap_make_date(split_part(btrim(value), '.', 3)::integer,
                                          split_part(btrim(value), '.', 2)::integer,
                                          split_part(btrim(value), '.', 1)::integer)
    END;

-- SAP text numbers (comma-decimal notation), unsigned: 4.770 (= 4770), 1.234,50, 0,884, 12.5
CREATE OR REPLACE FUNCTION operations.sap_text_number(s text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    CASE
        WHEN s ~ '^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$' THEN replace(replace(s, '.', ''), ',', '.')::numeric
        WHEN s ~ '^[+-]?\d+(,\d+)?$' THEN replace(s, ',', '.')::numeric
        -- dot decimal that cannot be thousands grouping
        WHEN s ~ '^[+-]?\d+\.\d+$' THEN s::numeric
    END;

-- trim_scale: 1.234,500 and 1234.5 are one value and must hash alike
CREATE OR REPLACE FUNCTION operations.sap_number(value text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    CASE
        WHEN value IS NULL THEN NULL
        -- a numeric cell: the reader stages floats with an exponent (4.77e0), never ambiguous
        WHEN value ~ '^[+-]?\d+(\.\d+)?[eE][+-]?\d+$' THEN trim_scale(value::numeric)
        -- SAP's trailing minus: 1.234,50-
        WHEN btrim(value) LIKE '%-' THEN trim_scale(-operations.sap_text_number(rtrim(btrim(value), '-')))
        ELSE trim_scale(operations.sap_text_number(btrim(value)))
    END;

CREATE OR REPLACE FUNCTION operations.sap_nfc(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    CASE
        WHEN octet_length(value) = char_length(value) OR value IS NFC NORMALIZED THEN value
        ELSE normalize(value, NFC)
    END;

CREATE OR REPLACE FUNCTION operations.sap_code(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    CASE
        WHEN value IS NULL THEN NULL
        -- A code cell stored as a number reads as 10000109155.0: drop the spurious fraction.
        WHEN strpos(value, '.') > 0 AND value ~ '^\s*\d+\.0+\s*$' THEN split_part(btrim(value), '.', 1)
        ELSE nullif(btrim(operations.sap_nfc(value)), '')
    END;

CREATE OR REPLACE FUNCTION operations.sap_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    nullif(btrim(operations.sap_nfc(value)), '');
