"""Generators of test material (synthetic scanned pages and newspapers) for tests and
benchmarks. Not part of the installed ``lantai`` package."""
