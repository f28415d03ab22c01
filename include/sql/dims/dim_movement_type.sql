-- dims.dim_movement_type from site.yaml (%(movement_types)s, a JSON object keyed by movement type).
-- Types no longer configured are kept: facts built earlier may reference them.
INSERT INTO dims.dim_movement_type AS d (movement_type, description, category, direction, is_reversal, reverses)
SELECT key,
       value ->> 'description',
       value ->> 'category',
       (value ->> 'direction')::smallint,
       value ? 'reverses',
       value ->> 'reverses'
  FROM jsonb_each(%(movement_types)s::jsonb)
ON CONFLICT (movement_type) DO UPDATE
   SET description = excluded.description, category = excluded.category, direction = excluded.direction,
       is_reversal = excluded.is_reversal, reverses = excluded.reverses
 WHERE (d.description, d.category, d.direction, d.is_reversal, d.reverses)
       IS DISTINCT FROM (excluded.description, excluded.category, excluded.direction, excluded.is_reversal,
                         excluded.reverses);
