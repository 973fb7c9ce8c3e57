"""Signals: event schema, ingestion, windowed counting, detectors and alerts."""
