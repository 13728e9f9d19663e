"""The command line: real checks, one-line errors with exit status 2, cache maintenance."""

import subprocess
import sys

import pytest


def ads(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "ads_bench.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_help_lists_the_commands():
    result = ads("--help")
    assert result.returncode == 0
    for command in ("models", "cache", "list"):
        assert command in result.stdout


@pytest.mark.model
def test_models_check_embedded_prints_a_real_completion():
    result = ads("models", "check", "embedded", "--prompt", "Say hello.", "--max-tokens", "8")
    assert result.returncode == 0, result.stderr
    assert "SmolLM2-135M-Instruct" in result.stdout
    assert "tokens/s" in result.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("models", "check", "nonsense:spec"), "unknown model spec"),
        (("models", "check", "http://127.0.0.1:9/v1::m"), "cannot reach"),
        (("models", "check", "vllm:/models/x"), "pip install 'ads-bench[gpu]'"),
        (("list", "nothing"), "choose one of"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args, fragment):
    result = ads(*args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback():
    result = ads("--debug", "models", "check", "nonsense:spec")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_cache_stats_and_clear(tmp_path):
    import os

    env = {**os.environ, "ADS_BENCH_CACHE_DIR": str(tmp_path)}
    stats = ads("cache", "stats", env=env)
    assert stats.returncode == 0 and str(tmp_path) in stats.stdout.replace("\n", "")
    cleared = ads("cache", "clear", "--yes", env=env)
    assert cleared.returncode == 0 and "removed 0 entries" in cleared.stdout


def test_list_backends_names_every_spec_form():
    result = ads("list", "backends")
    assert result.returncode == 0
    for name in ("embedded", "http", "openai", "hf", "vllm"):
        assert name in result.stdout
