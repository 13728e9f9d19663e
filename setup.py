"""The wheel carries the suites, judge configs, data and shipped corpus (issue 14, item 6).

They live once, in the checkout's top-level ``tasks/`` and ``corpora/`` (which an editable install
and the tests read in place); this build step copies them into the built package as
``ads_bench/_data/tasks`` and ``ads_bench/_data/corpora``, where ``ads_bench/paths.py`` finds them
in an installed wheel. Why a build step and not configuration: setuptools' ``package-data`` only
takes files inside a package folder, and mapping ``tasks/`` in with ``package-dir`` would mean
listing every package by hand instead of finding them; switching the backend (hatchling's
``force-include`` does this in one line) would need a backend the venv does not have, so the
wheel test could not build without the network. ``leaderboards/``, ``examples/``, ``benchmarks/``,
``docs/`` and ``scripts/`` stay out: only a checkout uses them. Everything else is in
pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: top-level folders the commands read, copied whole into the wheel
DATA_FOLDERS = ("tasks", "corpora")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's folders in place
            return
        for name in DATA_FOLDERS:
            target = Path(self.build_lib) / "ads_bench" / "_data" / name
            shutil.rmtree(target, ignore_errors=True)  # no stale files from an earlier build
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithData})
