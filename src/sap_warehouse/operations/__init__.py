"""Operations: backups verified by restoring, vacuum and analyze, retention, the calendar's horizon,
the record of runs."""
