-- dims.dim_date follows the editable dims.holiday_calendar (the calendar rows themselves are made by
-- the migration for 2020-01-01..2030-12-31). Only dates whose holiday flag changed are written.
UPDATE dims.dim_date d
   SET is_holiday = h.calendar_date IS NOT NULL,
       holiday_name = h.holiday_name,
       is_working_day = NOT d.is_weekend AND h.calendar_date IS NULL
  FROM dims.dim_date base
  LEFT JOIN dims.holiday_calendar h ON h.calendar_date = base.calendar_date
 WHERE d.calendar_date = base.calendar_date
   AND (d.is_holiday, d.holiday_name) IS DISTINCT FROM (h.calendar_date IS NOT NULL, h.holiday_name);
