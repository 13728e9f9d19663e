"""Run the ads-bench CLI as `pip install ads-bench` (no extras) would have it: every module of
every extra, and the GPU and lm-eval ones, fails to import.

    python tests/core_only.py list suites
"""

import importlib.abc
import sys

from ads_bench.extras import EXTRAS

BLOCKED = {module for _, modules in EXTRAS.values() for module in modules} | {"vllm", "lm_eval"}


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
_real_find_spec = importlib.util.find_spec


def _find_spec(name, package=None):
    return None if name.split(".")[0] in BLOCKED else _real_find_spec(name, package)


importlib.util.find_spec = _find_spec

if __name__ == "__main__":
    from ads_bench.cli import main

    main(sys.argv[1:])
