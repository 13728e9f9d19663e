"""ads-bench: a benchmark and evaluation harness for active data search."""

__version__ = "0.1.0"
