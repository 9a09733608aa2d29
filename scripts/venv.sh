# Sourced by run.sh and test.sh: enter the project's .venv, creating it on a fresh machine,
# and install the package (with the extras named in $1, if any).
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip >/dev/null
pip install -q -e ".${1:-}"
