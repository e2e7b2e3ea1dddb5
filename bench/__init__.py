"""Benchmarks for `make bench`: each figure is printed beside a baseline measured in the same run.

Every figure ends in one line `BENCH <name> <value> <unit> baseline=<v> ratio=<r> goal=<g>
PASS|MISS`, so that any reader can collect them.
"""
