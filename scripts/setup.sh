#!/usr/bin/env bash
# Installs whatever is missing for the runner, and does nothing (quickly) when all is in place:
#   1. npm packages (without dependencies' install scripts; see scripts/setup-tensorflow.sh)
#   2. the native TensorFlow addon for @tensorflow/tfjs-node, built from PyPI's TensorFlow wheel
#   3. the Python venv with a pinned MLflow (the tracking server)
# Environment: RUNNER_SKIP_TENSORFLOW=1 / RUNNER_SKIP_MLFLOW=1 skip steps 2 / 3.
set -euo pipefail
cd "$(dirname "$0")/.."

lock_hash() { sha256sum package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16; }
stamp=node_modules/.runner-install-stamp
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(lock_hash)" ]; then
  echo "setup: installing npm packages (npm ci --ignore-scripts)" >&2
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  lock_hash > "$stamp"
fi
[ "${RUNNER_SKIP_TENSORFLOW:-}" = 1 ] || bash scripts/setup-tensorflow.sh
[ "${RUNNER_SKIP_MLFLOW:-}" = 1 ] || bash scripts/setup-mlflow.sh
