"""Quality gates: the Great Expectations suites on a date's slice, the range screen in SQL, the Data
Docs site."""
