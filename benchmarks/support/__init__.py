"""Synthetic scenes with known answers, for tests and benchmarks."""
