-- dims.dim_yield_rating from site.yaml (%(yield_ratings)s, rating -> minimum yield %%): the bands
-- view_production_yield rates finished orders by. Replaced whole when the bands change.
DELETE FROM dims.dim_yield_rating r
 WHERE NOT EXISTS (SELECT FROM jsonb_each_text(%(yield_ratings)s::jsonb) b
                    WHERE b.key = r.rating AND b.value::numeric = r.min_pct);

INSERT INTO dims.dim_yield_rating (rating, min_pct)
SELECT key, value::numeric
  FROM jsonb_each_text(%(yield_ratings)s::jsonb)
ON CONFLICT (rating) DO NOTHING;
