"""Everything is validated before the first paid call (issue 12, item 12), and a configuration's
identity does not depend on how a path was spelled (item 5, first half).

The models are a real OpenAI-compatible server on 127.0.0.1 (tests/openai_server.py) that counts
the requests it receives: a mistake must be reported with that count still at zero and no run
folder left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openai_server import serve

from ads_bench.config import canonical_config
from ads_bench.paths import REPO_DIR
from ads_bench.pipeline.evaluate import EvalConfig
from ads_bench.pipeline.preflight import preflight
from ads_bench.pipeline.run import RunConfig
from ads_bench.store.run_folder import default_run_dir

SUITES = Path(__file__).parent / "data" / "suites"
SMALL = ("--limit", "1", "--max-held-out", "1")


def ads(*args, cwd: Path, cache_dir: Path):
    env = {**os.environ, "ADS_BENCH_CACHE_DIR": str(cache_dir)}
    return subprocess.run([sys.executable, "-m", "ads_bench.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env, cwd=cwd)


def one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.fixture
def server():
    with serve() as running:
        yield running


def models(server, **options) -> tuple[str, ...]:
    spec = server.spec(**options)
    return ("--policy", spec, "--expert", spec, "--judge", spec)


# -- mistakes found before any call and before the run folder -----------------------------------

def test_a_mistyped_judge_config_fails_before_answering(server, tmp_path):
    result = ads("run", "--strategy", "none", *SMALL, *models(server, context_window=4096),
                 "--judge-config", "alpaca_eval_2_typo", "--out", str(tmp_path / "run"),
                 cwd=tmp_path, cache_dir=tmp_path / "cache")
    one_line_error(result, "alpaca_eval_2_typo")
    assert server.stats()["received"] == 0
    assert not (tmp_path / "run").exists()


def test_evaluate_with_a_mistyped_judge_config_fails_before_answering(server, tmp_path):
    result = ads("evaluate", "--suite", "alpacaeval", "--limit", "1", "--model", server.spec(),
                 "--judge", server.spec(), "--judge-config", "no_such_judge", "--out", str(tmp_path / "run"),
                 cwd=tmp_path, cache_dir=tmp_path / "cache")
    one_line_error(result, "no_such_judge")
    assert server.stats()["received"] == 0
    assert not (tmp_path / "run").exists()


def test_an_http_policy_without_a_context_window_fails_before_acquisition(server, tmp_path):
    result = ads("run", "--strategy", "rule-qa", *SMALL, *models(server), "--out", str(tmp_path / "run"),
                 cwd=tmp_path, cache_dir=tmp_path / "cache")
    one_line_error(result, "context_window")
    assert server.stats()["received"] == 0  # the expert's QA calls were never made
    assert not (tmp_path / "run").exists()


def test_an_unknown_strategy_leaves_no_run_folder(server, tmp_path):
    result = ads("run", "--strategy", "no-such-strategy", *SMALL, *models(server, context_window=4096),
                 "--out", str(tmp_path / "run"), cwd=tmp_path, cache_dir=tmp_path / "cache")
    one_line_error(result, "unknown strategy 'no-such-strategy'")
    assert not (tmp_path / "run").exists() and not (tmp_path / "results").exists()


def test_a_sweep_checks_every_cell_of_its_grid_before_the_first_run(server, tmp_path):
    spec = server.spec(context_window=4096)
    (tmp_path / "sweep.yaml").write_text(json.dumps({
        "name": "s", "base": {"suite": "inhouse", "limit": 1, "max_held_out": 1, "policy": spec, "expert": spec,
                              "judge": spec},
        "grid": {"strategy": ["none", "rule-qa", "no-such-strategy"]},
    }))
    result = ads("sweep", "sweep.yaml", "--out", "results", cwd=tmp_path, cache_dir=tmp_path / "cache")
    one_line_error(result, "no-such-strategy")
    assert server.stats()["received"] == 0
    assert not (tmp_path / "results").exists()


def test_rescore_with_a_mistyped_judge_config_leaves_no_folder(server, tmp_path):
    result = ads("rescore", str(Path(__file__).parent / "data" / "runs" / "rule-qa-inhouse"), "--judge",
                 server.spec(), "--judge-config", "no_such_judge", "--out", str(tmp_path / "rescored"),
                 cwd=tmp_path, cache_dir=tmp_path / "cache")
    one_line_error(result, "no_such_judge")
    assert not (tmp_path / "rescored").exists()


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"learner": "no-such-learner"}, "no-such-learner"),
        ({"orders": "sideways"}, "sideways"),
        ({"grouping": "alphabetical"}, "alphabetical"),
        ({"optimizer_format": "xml"}, "xml"),
        ({"corpus": "no/such/corpus.jsonl"}, "no/such/corpus.jsonl"),
        ({"api_costs": "no/such/costs.yaml"}, "no/such/costs.yaml"),
        ({"policy": "nonsense:spec"}, "nonsense:spec"),
        ({"suite": "no-such-suite"}, "no-such-suite"),
    ],
)
def test_preflight_names_each_bad_setting(change, fragment):
    from ads_bench.errors import UserError

    with pytest.raises(UserError, match=fragment.replace("/", ".")):
        preflight(RunConfig(strategy="none", **change))


def test_preflight_accepts_the_defaults_and_makes_no_model_call():
    # no runtime is passed: preflight cannot call a model, and the defaults are valid
    assert preflight(RunConfig(strategy="ads")).suite == "inhouse"
    assert preflight(EvalConfig(suite="alpacaeval", limit=1)).suite == "alpacaeval"


def test_score_rejects_mt_bench_scores_outside_one_to_ten(tmp_path):
    good = {"question_id": 81, "model": "m", "judge": ["gpt-4", "single-v1"], "score": 7, "turn": 1}
    for bad in (99, 0, 10.5):
        path = tmp_path / f"single_{bad}.jsonl"
        path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "question_id": 82, "score": bad}) + "\n")
        result = ads("score", str(path), "--format", "mt_bench", cwd=tmp_path, cache_dir=tmp_path / "cache")
        one_line_error(result, "line 2", "1-10")


# -- one configuration, one spelling ------------------------------------------------------------

def run_dir(config: RunConfig) -> Path:
    config = preflight(config)
    return default_run_dir("run", config.to_dict(), config.strategy, config.suite, config.learner)


def test_a_built_in_suite_named_by_any_path_is_that_suite(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_DIR)
    spellings = ["inhouse", "tasks/inhouse.yaml", "./tasks/inhouse.yaml", str(REPO_DIR / "tasks" / "inhouse.yaml")]
    assert {preflight(RunConfig(strategy="none", suite=s)).suite for s in spellings} == {"inhouse"}
    assert len({run_dir(RunConfig(strategy="none", suite=s)) for s in spellings}) == 1


def test_a_users_files_named_relative_or_absolute_are_one_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suites").mkdir()
    for name in ("toy.yaml", "toy.jsonl"):
        shutil.copy(SUITES / name, tmp_path / "suites" / name)
    (tmp_path / "costs.yaml").write_text("information_retrieval: 0.001\n")
    (tmp_path / "judge.yaml").write_bytes((REPO_DIR / "ads_bench/judging/judges/alpaca_eval_2.yaml").read_bytes())

    def config(prefix: str) -> RunConfig:
        return RunConfig(strategy="ads", suite=f"{prefix}suites/toy.yaml", api_costs=f"{prefix}costs.yaml",
                         judge_config=f"{prefix}judge.yaml", optimizer=f"embedded?lora={prefix}adapter.gguf")

    relative, dotted, absolute = config(""), config("./"), config(f"{tmp_path}/")
    assert preflight(relative) == preflight(dotted) == preflight(absolute)
    assert run_dir(relative) == run_dir(dotted) == run_dir(absolute)
    assert preflight(relative).suite == str(tmp_path / "suites" / "toy.yaml")


def test_canonical_paths_leave_names_and_server_specs_alone():
    config = RunConfig(strategy="ads", policy="http://127.0.0.1:8000/v1::Qwen2-7B?context_window=8192",
                       expert="openai:gpt-4o-mini", judge="embedded", judge_config="arena_hard_v0.1",
                       corpus="wiki-vital-level4")
    assert canonical_config(config) == config


def test_a_built_in_judge_named_by_its_file_is_that_judge():
    file = REPO_DIR / "ads_bench" / "judging" / "judges" / "alpaca_eval_2.yaml"
    assert canonical_config(RunConfig(strategy="none", judge_config=str(file))).judge_config == "alpaca_eval_2"


async def test_a_smoke_trained_optimizer_is_recorded_by_its_absolute_path(tmp_path, monkeypatch):
    """The first `run --strategy ads` trains a smoke optimizer and got its relative path; every
    rerun read the latest pointer's absolute one: two digests for one configuration."""
    from ads_bench.optimizer import checkpoints, trainer

    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "adapters").mkdir(parents=True)
    (tmp_path / "results" / "adapters" / "a.gguf").write_bytes(b"")

    async def trained(config, runtime, console=None):
        return None, [{"optimizer_out": "embedded?lora=results/adapters/a.gguf"}]

    monkeypatch.setattr(trainer, "train_optimizer", trained)
    spec = await checkpoints.train_smoke(RunConfig(strategy="ads"), runtime=None, console=None)
    assert spec == f"embedded?lora={tmp_path}/results/adapters/a.gguf"


def test_the_same_run_by_three_spellings_of_its_suite_is_one_run_folder_and_one_set_of_calls(server, tmp_path):
    (tmp_path / "tasks").symlink_to(REPO_DIR / "tasks")  # `tasks/inhouse.yaml` from tmp_path
    folders, received = [], []
    for suite in ("tasks/inhouse.yaml", "./tasks/inhouse.yaml", "inhouse"):
        result = ads("run", "--strategy", "none", "--suite", suite, *SMALL, *models(server, context_window=4096),
                     cwd=tmp_path, cache_dir=tmp_path / "cache")
        assert result.returncode == 0, result.stderr
        folders.append(sorted(p.name for p in (tmp_path / "results").iterdir()))
        received.append(server.stats()["received"])
    assert folders[0] == folders[1] == folders[2] and len(folders[0]) == 1
    assert received[0] > 0 and received[0] == received[1] == received[2]  # the reruns made no call
