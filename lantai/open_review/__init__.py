"""Lantai."""
