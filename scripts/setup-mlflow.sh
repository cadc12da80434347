#!/usr/bin/env bash
# Installs a pinned MLflow (the tracking server) into the project's Python venv, .venv/.
# Idempotent: when .venv/.mlflow-stamp already names the pinned version it does nothing (instantly).
# Environment: PYTHON (default python3) picks the interpreter that creates the venv;
#              RUNNER_VENV (default .venv) picks the venv folder.
set -euo pipefail
cd "$(dirname "$0")/.."

MLFLOW_VERSION=3.17.2
venv="${RUNNER_VENV:-.venv}"
stamp="$venv/.mlflow-stamp"
want="mlflow==$MLFLOW_VERSION"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/mlflow" ]; then
  exit 0
fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup-mlflow: $python not found; install Python 3.10+ (e.g. apt-get install python3 python3-venv) and rerun" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "setup-mlflow: creating the Python venv $venv ($("$python" --version 2>&1))" >&2
  "$python" -m venv "$venv"
fi
echo "setup-mlflow: installing $want into $venv (a few minutes the first time)" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$want"
"$venv/bin/mlflow" --version >&2
echo "$want" > "$stamp"
echo "setup-mlflow: done ($want in $venv)" >&2
