"""The shared core every stage reads: settings, the report registry, the warehouse model, the business
date, database access, progress."""
