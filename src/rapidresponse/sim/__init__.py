"""Synthetic crisis scenarios: the demo and the benchmarks feed on them."""
