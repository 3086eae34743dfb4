#!/usr/bin/env bash
# Check binder/ without Docker: build a fresh venv from binder/'s files alone (as repo2docker would: requirements,
# then postBuild from the repository root), then run every notebook under nbval inside binder/start.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/binder-venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
echo "== building a fresh venv from binder/ ($(cat binder/runtime.txt))"
python -m venv "$venv"
export PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv"
python -m pip install -q --disable-pip-version-check -r binder/requirements.txt
bash binder/postBuild
# The test runner is not part of the image; it only drives the notebooks.
python -m pip install -q --disable-pip-version-check pytest pytest-timeout nbval
echo "== running the notebooks in it, behind binder/start"
port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# binder/start leaves its endpoint running for the rest of the session (on Binder the container ends it); here the
# session is this script, so the endpoint on its port is stopped on exit.
trap 'pkill -f "lookout-nb serve .*--port $port" || true; rm -rf "$(dirname "$venv")"' EXIT
LOOKOUT_NB_PORT="$port" binder/start python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env -o addopts="" notebooks
