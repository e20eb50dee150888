"""Proration and upgrade simulator (issue 6)."""
