"""Containment actions on content and accounts: blast radius, approvals, resumable execution."""
