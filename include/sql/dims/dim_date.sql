-- dims.dim_date follows the editable dims.holiday_calendar (the calendar rows themselves are made by
-- the migrations and operations.extend_horizon). A date is a holiday when a row of any kind but
-- 'event' names it (public holidays from the holidays library, the plant's company holidays and
-- shutdowns); holiday_name joins their names, events joins the names of the plant's events. Only
-- dates whose holiday or events changed are written.
WITH of_date AS (
    SELECT calendar_date,
           string_agg(holiday_name, '; ' ORDER BY holiday_name) FILTER (WHERE kind <> 'event') AS holiday_name,
           string_agg(holiday_name, '; ' ORDER BY holiday_name) FILTER (WHERE kind = 'event') AS events
      FROM dims.holiday_calendar
     GROUP BY calendar_date
)
UPDATE dims.dim_date d
   SET is_holiday = h.holiday_name IS NOT NULL,
       holiday_name = h.holiday_name,
       is_working_day = NOT d.is_weekend AND h.holiday_name IS NULL,
       events = h.events
  FROM dims.dim_date base
  LEFT JOIN of_date h ON h.calendar_date = base.calendar_date
 WHERE d.calendar_date = base.calendar_date
   AND (d.holiday_name, d.events) IS DISTINCT FROM (h.holiday_name, h.events);
