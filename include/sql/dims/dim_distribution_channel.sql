-- dims.dim_distribution_channel from site.yaml (%(distribution_channels)s, code -> name): the names
-- the sales view shows. A code no longer configured is removed (its lines show as "Other (<code>)").
DELETE FROM dims.dim_distribution_channel
 WHERE NOT (%(distribution_channels)s::jsonb ? distribution_channel);

INSERT INTO dims.dim_distribution_channel AS d (distribution_channel, channel_name)
SELECT key, value #>> '{}'
  FROM jsonb_each(%(distribution_channels)s::jsonb)
ON CONFLICT (distribution_channel) DO UPDATE
   SET channel_name = excluded.channel_name
 WHERE d.channel_name IS DISTINCT FROM excluded.channel_name;
