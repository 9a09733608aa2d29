#!/usr/bin/env bash
# The project's test command (README): installs into .venv, lints, runs the tests, checks
# the gold files and gates extraction quality on the eval thresholds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh "[dev]"
mkdir -p artifacts
echo "== ruff"
ruff check .
ruff format --check .
echo "== types (mypy)"
mypy
echo "== layering (import-linter)"
lint-imports --no-cache >/dev/null && echo "import contracts kept"
echo "== pytest"
pytest -q "$@"
echo "== gold files"
extractor gold check --gold eval/gold --docs eval/docs
echo "== eval gate (rules backend vs gold)"
extractor eval --backend rules --gold eval/gold --docs eval/docs \
  --thresholds eval/thresholds.toml --json artifacts/eval.json --markdown artifacts/eval.md
echo "== eval gate (LLM path, recorded answers replayed through the real client)"
extractor eval --backend llm --replay eval/cassettes --gold eval/gold --gold eval/holdout \
  --docs eval/docs --docs eval/holdout --thresholds eval/thresholds-llm.toml \
  --json artifacts/eval-llm.json --markdown artifacts/eval-llm.md
