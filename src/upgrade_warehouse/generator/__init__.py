"""Synthetic data generator (issue 5)."""
