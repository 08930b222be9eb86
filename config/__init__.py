"""Lowest layer: settings, hardware probe and model catalogue. Imports nothing from ingest/ or service/."""
