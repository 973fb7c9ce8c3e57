"""Append-only, hash-chained audit log of every write, and its verifier."""
