"""Shared fixtures: an isolated cache folder, one runtime, and a real local OpenAI-compatible server.

The embedded engine and transformers weights are loaded once per process by the backends
themselves, so every test that uses them shares one load.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

# isolate the response cache, converted weights and indexes from the user's own (unless the
# developer points ADS_BENCH_TEST_CACHE at a persistent folder to skip reconversion locally)
_SESSION_CACHE = os.environ.get("ADS_BENCH_TEST_CACHE") or tempfile.mkdtemp(prefix="ads-bench-test-")
os.environ["ADS_BENCH_CACHE_DIR"] = _SESSION_CACHE
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def session_cache_dir() -> Path:
    return Path(_SESSION_CACHE)


@pytest.fixture
def fresh_runtime(tmp_path):
    """A runtime with its own empty cache and ledger."""
    from ads_bench.models import Runtime

    return Runtime.create(cache_path=tmp_path / "responses.sqlite3")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not become healthy")


def start_server(parallel: int = 4, ctx: int = 4096) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ads_bench.cli", "models", "serve", "embedded",
         "--port", str(port), "--parallel", str(parallel), "--ctx", str(ctx)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process)
    return process, url


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def local_server():
    """A real OpenAI-compatible server (llama.cpp via xllamacpp) serving the embedded GGUF."""
    process, url = start_server()
    yield url + "/v1"
    stop_server(process)
