-- dims.dim_customer: every customer the files of business dates %(business_dates)s mention (billing
-- sold-to, bill-to and ship-to; delivery sold-to and ship-to; AR aging). SAP exports carry no
-- customer master, so each attribute is taken from the most reliable report that has it, latest
-- row first: billing as bill-to (the legal name), AR aging, deliveries as ship-to, billing as
-- ship-to. Billing is read from D's own billing dates onward (a customer's latest line is never
-- earlier), so the cost follows the day, not the history; a customer described by billing keeps
-- that description when a later date mentions it only in other reports. A customer no report
-- names is an inferred member.
WITH touched AS (
    SELECT unnest(ARRAY[sold_to, bill_to, ship_to, payer]) AS code
      FROM raw.raw_zrsd002 WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT unnest(ARRAY[sold_to_party, ship_to_party]) FROM raw.raw_zrsd004
           WHERE business_date = ANY(%(business_dates)s::date[])
    UNION SELECT customer_code FROM raw.raw_zrfi005 WHERE business_date = ANY(%(business_dates)s::date[])
    -- every line the billing fact rebuilds for these dates reads, whichever date's file delivered it
    UNION SELECT unnest(ARRAY[sold_to, bill_to, ship_to, payer]) FROM raw.raw_zrsd002
     WHERE billing_date = ANY(%(billing_dates)s::date[])
),
recent_billing AS (
    SELECT r.* FROM raw.raw_zrsd002 r
     WHERE r.billing_date >= (SELECT min(billing_date) FROM raw.raw_zrsd002
                               WHERE business_date = ANY(%(business_dates)s::date[]))
),
bill AS (
    SELECT DISTINCT ON (r.bill_to) r.bill_to AS code, r.name_of_bill_to AS b_name, r.cust_city AS b_city,
           r.cust_group AS b_group, r.dist_channel AS b_channel, r.sales_office AS b_office,
           r.salesman_id AS b_salesman, r.salesman_name AS b_salesman_name, r.trans_zone AS b_zone
      FROM recent_billing r
     WHERE r.bill_to IN (SELECT bill_to FROM raw.raw_zrsd002 WHERE business_date = ANY(%(business_dates)s::date[]))
     ORDER BY r.bill_to, r.billing_date DESC, r.billing_document DESC, r.billing_item DESC
),
ship AS (
    SELECT DISTINCT ON (r.ship_to) r.ship_to AS code, r.name_of_ship_to AS s_name
      FROM recent_billing r
     WHERE r.ship_to IN (SELECT ship_to FROM raw.raw_zrsd002 WHERE business_date = ANY(%(business_dates)s::date[]))
     ORDER BY r.ship_to, r.billing_date DESC, r.billing_document DESC, r.billing_item DESC
),
described AS (
    SELECT t.code, bill.b_name, bill.b_city, bill.b_group, bill.b_channel, bill.b_office, bill.b_salesman,
           bill.b_salesman_name, bill.b_zone, ar.*, dlv.*, ship.s_name
      FROM touched t
      LEFT JOIN bill ON bill.code = t.code
      LEFT JOIN ship ON ship.code = t.code
      LEFT JOIN LATERAL (
            SELECT r.customer_name AS a_name, r.customer_group AS a_group, r.distribution_channel AS a_channel,
                   r.salesman_code AS a_salesman, r.salesman_name AS a_salesman_name
              FROM raw.raw_zrfi005 r WHERE r.customer_code = t.code
             ORDER BY r.snapshot_date DESC, r.distribution_channel, r.salesman_code LIMIT 1) ar ON true
      LEFT JOIN LATERAL (
            SELECT r.name_of_ship_to AS d_name, r.city_of_ship_to AS d_city, r.cust_group AS d_group,
                   r.dist_channel AS d_channel, r.sales_office AS d_office, r.salesman_id AS d_salesman,
                   r.salesman_name AS d_salesman_name, r.transportation_zone AS d_zone
              FROM raw.raw_zrsd004 r WHERE r.ship_to_party = t.code
             ORDER BY r.delivery_date DESC, r.delivery DESC, r.line_item DESC LIMIT 1) dlv ON true
     WHERE t.code IS NOT NULL
)
INSERT INTO dims.dim_customer AS c (
    customer_code, customer_name, city, customer_group, distribution_channel, sales_office, salesman_id,
    salesman_name, transportation_zone, is_inferred, source_report)
SELECT code,
       coalesce(b_name, a_name, d_name, s_name),
       coalesce(b_city, d_city),
       coalesce(b_group, a_group, d_group),
       coalesce(b_channel, a_channel, d_channel),
       coalesce(b_office, d_office),
       coalesce(b_salesman, a_salesman, d_salesman),
       coalesce(b_salesman_name, a_salesman_name, d_salesman_name),
       coalesce(b_zone, d_zone),
       coalesce(b_name, a_name, d_name, s_name) IS NULL,
       CASE WHEN b_name IS NOT NULL THEN 'zrsd002' WHEN a_name IS NOT NULL THEN 'zrfi005'
            WHEN d_name IS NOT NULL THEN 'zrsd004' WHEN s_name IS NOT NULL THEN 'zrsd002 ship-to'
            ELSE 'inferred' END
  FROM described
ON CONFLICT (customer_code) DO UPDATE
   SET (customer_code, customer_name, city, customer_group, distribution_channel, sales_office, salesman_id,
        salesman_name, transportation_zone, is_inferred, source_report) = ROW (excluded.*)  -- all, in table order
 WHERE c IS DISTINCT FROM excluded
   AND (excluded.source_report = 'zrsd002' OR c.source_report <> 'zrsd002');
