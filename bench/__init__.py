"""Benchmarks: each module runs with one command and prints a table."""
