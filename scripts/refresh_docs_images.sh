#!/usr/bin/env bash
# Refresh docs/images/ from a real run: the JupyterLab browser test (tests/test_lab_browser.py: lookout-nb demo,
# Run All, the wizard from Model to Monitor in headless Chromium) saves one screenshot per step; this copies the
# Input step to docs/images/wizard.png and the Monitor step to docs/images/monitor.png. Nothing is copied when the
# test fails. Extra arguments go to pytest. Needs /usr/bin/chromium and the test extras (scripts/test.sh has both).
#   scripts/refresh_docs_images.sh            # screenshots in a temporary folder
#   LOOKOUT_NB_SCREENSHOTS=artifacts/lab scripts/refresh_docs_images.sh   # ... or in one you keep
set -euo pipefail
cd "$(dirname "$0")/.."

shots="${LOOKOUT_NB_SCREENSHOTS:-$(mktemp -d -t lookout-nb-screenshots.XXXXXX)}"
mkdir -p "$shots"
echo "== running tests/test_lab_browser.py (screenshots in $shots)"
LOOKOUT_NB_SCREENSHOTS="$shots" PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" \
    python -m pytest -p no:cacheprovider -q tests/test_lab_browser.py "$@"

copy() {  # copy STEP TARGET: the screenshot of one step, which the test must have saved
    local found=("$shots"/[0-9][0-9]-"$1".png)
    if [ ! -f "${found[0]}" ]; then
        echo "refresh_docs_images: no screenshot of the $1 step in $shots" >&2
        exit 1
    fi
    cp "${found[0]}" "$2"
    echo "   $2 <- ${found[0]}"
}
copy input docs/images/wizard.png
copy monitor docs/images/monitor.png
