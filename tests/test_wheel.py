"""A non-editable install works outside a checkout (issue 14, item 6): the built wheel carries the
suites, judge configs, data and shipped corpus (setup.py copies ``tasks/`` and ``corpora/`` into
``ads_bench/_data/``), and ``ads_bench/paths.py`` finds them there.

The wheel is unpacked, not pip-installed, and put first on ``PYTHONPATH``: that exercises the
installed layout with this venv's dependencies (CI's `.ci/run` does the full install into a fresh
venv)."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.model]

REPO = Path(__file__).resolve().parents[1]
#: what a build must not read from the working tree: other builds' leftovers (setuptools copies
#: a stale build/lib into the wheel), caches, run folders and the venv
NOT_SOURCES = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis",
               "results", "ads-bench-cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip wheel .` builds, from a copy of this checkout (so no build/ folder is left in
    the working tree, and none of an earlier build's files gets in)."""
    source = tmp_path_factory.mktemp("source") / "ads-bench"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    out = tmp_path_factory.mktemp("dist")
    # the venv's own setuptools where it has one (no network needed); else pip's isolated build
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", *isolation, "-w", str(out),
                           "-q"], cwd=source, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("ads_bench-*.whl")
    return built


@pytest.fixture(scope="module")
def unpacked(wheel, tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site-packages")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def _installed(site: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Python from ``workdir`` (not the checkout) with the unpacked wheel first on the path."""
    env = {**os.environ, "PYTHONPATH": str(site), "ADS_BENCH_CACHE_DIR": str(workdir / "cache"), "COLUMNS": "120"}
    env.pop("ADS_BENCH_TASKS_DIR", None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=workdir,
                          timeout=900)


def test_the_wheel_carries_the_suites_judges_data_and_corpus_but_no_checkout_folders(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "ads_bench/_data/"
    for suite in ("mt-bench", "alpacaeval", "arena-hard", "inhouse", "wikifacts", "wikifacts-train"):
        assert f"{data}tasks/{suite}.yaml" in names
    for judge in ("mt_bench/judge_prompts.jsonl", "arena_hard/judge_config_v0.1.yaml",
                  "alpaca_eval/judge_config_weighted_alpaca_eval_gpt4_turbo.yaml"):
        assert f"{data}tasks/judges/{judge}" in names
    for item in ("mt_bench/question.jsonl", "mt_bench/reference_answer_gpt-4.jsonl",
                 "wikifacts/wikifacts.jsonl.gz", "wikifacts/wikifacts-train.jsonl.gz"):
        assert f"{data}tasks/data/{item}" in names
    assert f"{data}corpora/wiki_vital_level4/wikipedia_vital_level4_summaries_en.json.gz" in names
    assert any(n.startswith(f"{data}corpora/embeddings/") and n.endswith(".f16.npy") for n in names)
    # only a checkout uses these; nothing lands outside the package either
    assert not any(n.split("/")[0] in {"tasks", "corpora", "leaderboards", "examples"} for n in names)
    assert not any(n.startswith(f"{data}{folder}/") for folder in ("leaderboards", "examples") for n in names)


def test_the_installed_package_reads_its_own_copy_not_a_checkout(unpacked, tmp_path):
    done = _installed(unpacked, tmp_path, "-c", "from ads_bench import paths; "
                      "print(paths.tasks_dir(), paths.corpora_dir(), paths.checkout_dir(), sep='\\n')")
    assert done.returncode == 0, done.stderr[-2000:]
    tasks, corpora, checkout = done.stdout.split()
    assert Path(tasks) == unpacked / "ads_bench" / "_data" / "tasks"
    assert Path(corpora) == unpacked / "ads_bench" / "_data" / "corpora"
    assert checkout == "None"  # so a run records no git commit of whatever repo holds the venv


def test_list_suites_works_from_another_folder(unpacked, tmp_path):
    done = _installed(unpacked, tmp_path, "-m", "ads_bench.cli", "list", "suites")
    assert done.returncode == 0, done.stderr[-2000:]
    for suite in ("mt-bench", "alpacaeval", "arena-hard", "inhouse", "wikifacts"):
        assert suite in done.stdout


def test_evaluate_mt_bench_runs_from_another_folder(unpacked, tmp_path):
    out = tmp_path / "run"
    done = _installed(unpacked, tmp_path, "-m", "ads_bench.cli", "evaluate", "--suite", "mt-bench", "--limit", "1",
                      "--max-tokens", "8", "--judge-max-tokens", "24", "--retries", "0", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    answers = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert len(answers) == 1 and len(answers[0]["answers"]) == 2  # MT-Bench's two turns
    assert len((out / "judgments.jsonl").read_text().splitlines()) == 2  # the judge prompts were found
    assert json.loads((out / "metrics.json").read_text())["single"]["n_items"] == 2
    assert json.loads((out / "environment.json").read_text())["git"] == {"commit": None, "dirty": None}
