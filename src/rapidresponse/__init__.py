"""Rapid Response: a command platform for Trust & Safety incident response."""

__version__ = "0.1.0"
