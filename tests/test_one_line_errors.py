"""One line naming the fix, exit status 2, never a traceback (issue 12, item 11): a lone surrogate in
a task file, a corrupt response cache (which `cache clear` repairs), a cache folder that is a file
and a cache database that is a folder."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

from ads_bench.models.cache import ResponseCache, request_key
from ads_bench.models.types import ChatRequest, Completion

SUITES = Path(__file__).parent / "data" / "suites"
NOWHERE = "http://127.0.0.1:9/v1::m"  # never reached: every error here comes before a model call


def ads(*args, cache_dir: Path | str):
    env = {**os.environ, "ADS_BENCH_CACHE_DIR": str(cache_dir)}
    return subprocess.run([sys.executable, "-m", "ads_bench.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env)


def one_line_error(result, *fragments: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def evaluate(suite: str | Path, cache_dir: Path, tmp_path: Path):
    return ads("evaluate", "--suite", str(suite), "--model", NOWHERE, "--judge", NOWHERE, "--limit", "1",
               "--out", str(tmp_path / "run"), cache_dir=cache_dir)


# -- a lone surrogate in a task file ------------------------------------------------------------

def suite_with_a_lone_surrogate(tmp_path: Path) -> Path:
    shutil.copy(SUITES / "toy.yaml", tmp_path / "toy.yaml")
    rows = (SUITES / "toy.jsonl").read_text().splitlines()
    # the JSON escape of a lone surrogate: valid JSON, but not encodable as UTF-8
    rows[0] = rows[0].replace("good morning", "good \\ud800 morning")
    (tmp_path / "toy.jsonl").write_text("\n".join(rows) + "\n")
    return tmp_path / "toy.yaml"


def test_a_lone_surrogate_in_a_task_file_is_refused_at_load_naming_file_and_task(tmp_path):
    suite = suite_with_a_lone_surrogate(tmp_path)
    result = evaluate(suite, tmp_path / "cache", tmp_path)
    one_line_error(result, "toy.jsonl", "'translate-fr'", "lone surrogate", "good ")
    assert not (tmp_path / "run").exists()


def test_suites_validate_names_the_lone_surrogate_too(tmp_path):
    result = ads("suites", "validate", str(suite_with_a_lone_surrogate(tmp_path)), cache_dir=tmp_path / "cache")
    one_line_error(result, "'translate-fr'", "lone surrogate")


def test_a_lone_surrogate_still_gets_a_cache_key_and_a_cache_entry(tmp_path):
    request = ChatRequest.user("good \ud800 morning")
    key = request_key({"engine": "test"}, request, 0)
    assert key != request_key({"engine": "test"}, ChatRequest.user("good morning"), 0)
    cache = ResponseCache(tmp_path / "responses.sqlite3")
    cache.put(key, "m", Completion("echo \udc00"))
    assert cache.get(key).text == "echo \udc00"


# -- a corrupt response cache -------------------------------------------------------------------

def fill_cache(path: Path, entries: int = 300) -> None:
    cache = ResponseCache(path)
    for i in range(entries):
        cache.put(f"key-{i}", "m", Completion("x" * 1000 + str(i)))
    cache.close()  # the last connection checkpoints the WAL into the main file


def test_a_cache_overwritten_with_random_bytes_is_one_line_and_cache_clear_repairs_it(tmp_path):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "responses.sqlite3").write_bytes(random.Random(0).randbytes(64 * 1024))
    fix = "run `ads-bench cache clear`"
    one_line_error(ads("cache", "stats", cache_dir=cache_dir), "is corrupt", str(cache_dir), fix)
    one_line_error(evaluate("alpacaeval", cache_dir, tmp_path), "is corrupt", fix)
    cleared = ads("cache", "clear", "--yes", cache_dir=cache_dir)
    assert cleared.returncode == 0, cleared.stderr
    stats = ads("cache", "stats", cache_dir=cache_dir)
    assert stats.returncode == 0, stats.stderr
    assert ResponseCache(cache_dir / "responses.sqlite3").stats().entries == 0


def test_a_cache_with_a_corrupted_page_is_one_line_and_cache_clear_repairs_it(tmp_path):
    cache_dir = tmp_path / "cache"
    fill_cache(cache_dir / "responses.sqlite3")
    with (cache_dir / "responses.sqlite3").open("r+b") as handle:
        handle.seek(10 * 4096)  # a page of the table, past the header and schema
        handle.write(random.Random(1).randbytes(4096))
    one_line_error(ads("cache", "stats", cache_dir=cache_dir), "is corrupt", "cache clear")
    cleared = ads("cache", "clear", "--yes", cache_dir=cache_dir)
    assert cleared.returncode == 0, cleared.stderr
    assert ads("cache", "stats", cache_dir=cache_dir).returncode == 0


def test_cache_clear_of_one_model_still_works_on_a_healthy_cache(tmp_path):
    cache_dir = tmp_path / "cache"
    fill_cache(cache_dir / "responses.sqlite3", entries=3)
    result = ads("cache", "clear", "--model", "m", "--yes", cache_dir=cache_dir)
    assert result.returncode == 0 and "removed 3 entries" in result.stdout


# -- cache folders that are files, databases that are folders -----------------------------------

def test_a_cache_dir_that_is_a_file_is_one_line(tmp_path):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("I am a file")
    one_line_error(ads("cache", "stats", cache_dir=not_a_folder), str(not_a_folder), "not a folder")
    one_line_error(evaluate("alpacaeval", not_a_folder, tmp_path), "not a folder")


def test_a_cache_database_that_is_a_folder_is_one_line(tmp_path):
    cache_dir = tmp_path / "cache"
    (cache_dir / "responses.sqlite3").mkdir(parents=True)
    for args in (("cache", "stats"), ("cache", "clear", "--yes")):
        one_line_error(ads(*args, cache_dir=cache_dir), "responses.sqlite3", "is a folder")
    one_line_error(evaluate("alpacaeval", cache_dir, tmp_path), "is a folder")
    assert (cache_dir / "responses.sqlite3").is_dir()  # a folder we did not make is never deleted


def test_the_stored_values_stay_readable_json(tmp_path):
    path = tmp_path / "responses.sqlite3"
    fill_cache(path, entries=1)
    import sqlite3

    [(value,)] = sqlite3.connect(path).execute("SELECT value FROM responses").fetchall()
    assert json.loads(value)["text"].startswith("xxx")
