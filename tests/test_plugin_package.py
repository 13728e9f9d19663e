"""A third-party plugin package (``tests/plugin_pkg``: one suite, strategy, API, learner, backend,
judge and metric) is found through its entry points, listed by ``ads-bench list`` with where each comes
from, and runs end to end on the embedded model.

It is installed the way pip leaves a package, without pip: its folder on ``sys.path`` and a
``*.dist-info`` holding its ``entry_points.txt`` (written from its own ``pyproject.toml``), so
``importlib.metadata`` discovers the entry points for real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10: pytest's own TOML reader
    import tomli as tomllib

PACKAGE = Path(__file__).parent / "plugin_pkg"
PLUGINS = {  # kind (ads-bench list) -> the plugin's name
    "suites": "tinyplug-suite",
    "strategies": "tinyplug-strategy",
    "apis": "tinyplug_notes",
    "learners": "tinyplug-learner",
    "backends": "tinyplug",
    "judges": "tinyplug_judge",
    "metrics": "tinyplug_decisive",
}


def write_dist_info(folder: Path) -> Path:
    """``ads_bench_tinyplug-0.1.0.dist-info`` with METADATA and entry_points.txt in ``folder``."""
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = folder / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8"
    )
    groups = [
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in points.items())
        for group, points in project["entry-points"].items()
    ]
    (info / "entry_points.txt").write_text("\n".join(groups), encoding="utf-8")
    return folder


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The plugin package importable and its entry points visible, in this process and children."""
    site = write_dist_info(tmp_path / "site")
    for path in (str(PACKAGE), str(site)):
        monkeypatch.syspath_prepend(path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(PACKAGE), str(site), os.environ.get("PYTHONPATH", "")]))
    yield site
    for name in [m for m in sys.modules if m.startswith("ads_bench_tinyplug")]:
        del sys.modules[name]


def ads(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "ads_bench.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env)


def test_each_plugin_is_listed_with_entry_point_as_its_source(installed):
    listed = ads("list")
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "tinyplug" in line]
    for kind, name in PLUGINS.items():
        assert any(kind in row and name in row and "entry point" in row for row in rows), (kind, rows)
    from ads_bench.cli.list_cmd import _resolve

    for kind, name in PLUGINS.items():  # and in the kind's own table, saying where it is from
        rows = [row for row in _resolve(kind)() if name in row.values()]
        assert len(rows) == 1 and rows[0]["from"] == "entry point", (kind, rows)


def test_without_the_package_none_is_listed():
    listed = ads("list")
    assert listed.returncode == 0 and "tinyplug" not in listed.stdout


@pytest.mark.model
async def test_the_plugins_run_end_to_end_on_the_embedded_model(installed, tmp_path):
    from ads_bench.models import Runtime
    from ads_bench.pipeline.run import RunConfig, run_strategy

    config = RunConfig(
        strategy="tinyplug-strategy", suite="tinyplug-suite", learner="tinyplug-learner",
        policy="tinyplug:embedded", expert="embedded", judge="embedded", judge_config="tinyplug_judge",
        limit=1, max_held_out=1, max_tokens=16, judge_max_tokens=2, retries=1,
    )
    runtime = Runtime.create(cache_path=tmp_path / "responses.sqlite3")
    folder, metrics = await run_strategy(config, runtime, out=tmp_path / "run")

    [acquisition] = folder.log("acquisitions").records()
    assert acquisition["strategy"] == "tinyplug-strategy"
    assert metrics["acquisition"]["api_calls"] == {"tinyplug_notes": 2}
    [policy] = folder.log("policies").records()
    assert "Paris is the capital of France." in policy["context"]
    [answer] = folder.log("answers").records()
    assert answer["answers"][0].strip() and "tinyplug" in answer["policy"]  # the plugin backend answered
    assert metrics["pairwise"]["n_items"] == 1
    assert metrics["pairwise"]["n_failed"] == 1 or 0 <= metrics["pairwise"]["win_rate"] <= 100
    if not metrics["pairwise"]["n_failed"]:  # the plugin metric, beside (never over) the built-ins
        assert metrics["pairwise"]["plugin_metrics"]["tinyplug_decisive"]["n"] == 1
