"""Rebuild the smoke optimizer shipped in ads_bench/optimizer/shipped_smoke/ (see
ads_bench/optimizer/shipped.py): the smoke recipe that `ads-bench run --strategy ads` would train,
on the embedded models, in a fresh cache, then its GGUF adapters and manifest copied in.

    .venv/bin/python scripts/build_smoke_optimizer.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

COMMAND = "python scripts/build_smoke_optimizer.py"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="ads-bench-smoke-"))
    os.environ["ADS_BENCH_CACHE_DIR"] = str(work / "cache")  # an empty cache: nothing reused
    os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' GGUF conversion bar, in a log
    from rich.console import Console

    from ads_bench.models.client import Runtime
    from ads_bench.optimizer.shipped import ship
    from ads_bench.optimizer.trainer import smoke_config, train_optimizer
    from ads_bench.strategies.optimizer_specs import UNTRAINED_DEFAULT

    config = smoke_config(optimizer=UNTRAINED_DEFAULT, policy="embedded", expert="embedded", judge="embedded",
                          seed=0)
    console = Console(stderr=True)

    async def go():
        runtime = Runtime.create()
        try:
            return await train_optimizer(config, runtime, out=work / "train", console=console)
        finally:
            await runtime.aclose()

    folder, rows = asyncio.run(go())
    target = ship(Path(folder.path), rows, COMMAND)
    console.print(f"shipped {rows[-1]['optimizer_out']} as {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
