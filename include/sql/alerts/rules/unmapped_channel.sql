-- unmapped_channel (data alert, warning): billing lines carry a distribution channel that site.yaml
-- distribution_channels does not name (real exports carry customer-defined channels such as 11, 13,
-- 15): the sales view shows them as "Other (<code>)". Clears when the code gets a name (site.yaml,
-- then the next run) or no billing line carries it any more.
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'unmapped_channel', 'channel:' || b.distribution_channel, 'warning', count(*), NULL,
       format('Distribution channel %%s has no name in site.yaml (distribution_channels): %%s billing lines '
              'show as "Other (%%s)"; add its name and re-run a date', b.distribution_channel, count(*),
              b.distribution_channel),
       jsonb_build_object('distribution_channel', b.distribution_channel, 'first_billing_date', min(b.billing_date))
  FROM facts.fact_billing b
 WHERE b.distribution_channel IS NOT NULL
   AND NOT EXISTS (SELECT FROM dims.dim_distribution_channel c WHERE c.distribution_channel = b.distribution_channel)
 GROUP BY b.distribution_channel;
