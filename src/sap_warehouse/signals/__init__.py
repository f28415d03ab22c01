"""Signals: what people are told: alert rules and their lifecycle, the morning summary, the on-call
page."""
