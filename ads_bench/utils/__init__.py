"""The lowest layer: atomic writes, JSONL logs and hashing, importing nothing else of ads_bench."""
