"""Ingest: a business date's files from the landing zone into the raw layer (landing, delivery,
workbook reading, the raw load by stage)."""
