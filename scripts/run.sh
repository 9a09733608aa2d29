#!/usr/bin/env bash
# One command for a new user: install, extract the bundled sample reports (offline rules
# backend) if the store does not have them yet, and start the review app on them.
#   bash scripts/run.sh            # install + extract samples + review app on :8501
#   bash scripts/run.sh --no-app   # install + extract samples only
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh ""  # no extras; an explicit argument hides run.sh's own $1
extractor extract eval/docs --out out --resume
if [ "${1:-}" != "--no-app" ]; then
  exec streamlit run review_app.py --server.headless true --server.address "${HOST:-127.0.0.1}" --server.port "${PORT:-8501}"
fi
