#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it: unit and endpoint tests, the notebooks under
# nbval, and the browser tests in headless Chromium. This is the README's test command; .ci/run calls it.
# Extra arguments go to pytest (e.g. scripts/test.sh -x -k naming).
set -euo pipefail
cd "$(dirname "$0")/.."

# install_debian PACKAGE WHY: apt-get install one of Debian's packages (as root, or through sudo)
install_debian() {
    echo "== installing Debian's $1 $2"
    local sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$1" >/dev/null
}

command -v chromium >/dev/null 2>&1 || install_debian chromium "for the browser tests"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    install_debian postgresql "for the tests of several serve processes (tests/service/pgkit.py)"
fi

echo "== installing lookout-nb with its test extras"
python -m pip install -q --disable-pip-version-check -e ".[test]"

echo "== running the test suite"
exec python -m pytest "$@"
