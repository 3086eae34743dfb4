"""The wizard's words in JupyterLab, in headless Chromium (issue 25): the Submit step after the request changed, a
conflict with its Update action, and the Monitor of a scheduler with ~500 runs with its time range control.

The endpoint runs in this process with a manual clock (the test moves it: 500 runs in seconds); JupyterLab serves a
two-cell notebook (a wizard pre-filled for a new scheduler, one for a name taken with another configuration) and
its kernel reaches the endpoint through the environment. Element screenshots of the wizards' output areas go to
``$LOOKOUT_NB_SCREENSHOTS`` (default: the test's tmp dir).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from browser_support import chromium, free_port, require

pytestmark = pytest.mark.browser
require("jupyterlab")

ROOT = Path(__file__).resolve().parent.parent
#: Generous upper bounds for waiting (never asserted as durations), in milliseconds.
KERNEL_MS, PAGE_MS = 120_000, 60_000
ERRORS = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
CELLS = [
    "import lookout_nb as lnb\nfrom lookout_nb.service import demo\n"
    "req = lnb.SchedulerRequest(model_name=demo.DEMO_MODEL, scheduler_name='lab-5min', upload_frequency='PT5M',\n"
    "    input_bucket=demo.DEMO_BUCKET, input_prefix=demo.DEMO_INPUT_PREFIX, output_bucket=demo.DEMO_BUCKET,\n"
    "    output_prefix='lab-5min/output/', role_arn=demo.DEMO_ROLE_ARN)\n"
    "w = lnb.Wizard(request=req)\nw",
    "taken = req.replace(scheduler_name='taken', upload_frequency='PT10M', output_prefix='taken/output/')\n"
    "w2 = lnb.Wizard(request=taken)\nw2",
]


def notebook(folder: Path) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c} for c in CELLS]
    path = folder / "wizards.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name":
                                "Python 3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}))
    return path


@pytest.fixture
def endpoint():
    from lookout_nb.service import start

    ep = start(port=0, clock="manual", demo=True)
    yield ep
    ep.stop()


@pytest.fixture
def lab(endpoint, tmp_path):
    """JupyterLab on a free port serving the notebook; its kernels reach ``endpoint``. Yields the notebook's URL."""
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    notebook(work)
    token, port = secrets.token_hex(8), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTER", "IPYTHON"))}
    settings = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))  # no news pop-up
    env.update(endpoint.env(), HOME=str(home), PYTHONPATH=str(ROOT), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    log = open(tmp_path / "lab.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--port",
                             str(port), "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"],
                            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(tmp_path / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield f"{base}/lab/tree/wizards.ipynb?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("LOOKOUT_NB_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Page:
    """The notebook's page: the two wizards' output areas, their tabs, fields and buttons."""

    def __init__(self, page, shots: Path):
        self.page, self.shots = page, shots

    def wizard(self, n: int):
        return self.page.locator(".jp-OutputArea-output", has=self.page.locator(".lnb-wizard")).nth(n)

    def tab(self, n: int, word: str) -> None:
        self.wizard(n).get_by_role("tab", name=re.compile(rf"^\d+ .*\b{word}\b")).first.click()

    def field(self, n: int, name: str):
        css = f".lnb-field-{name.replace('_', '-')}"
        return self.wizard(n).locator(f"{css} input, {css} select").first

    def button(self, n: int, text: str):
        return self.wizard(n).get_by_role("button", name=re.compile(rf"^\W*{re.escape(text)}\s*$"))

    def shot(self, n: int, name: str, css: str | None = None) -> Path:
        path = self.shots / f"{name}.png"
        target = self.wizard(n) if css is None else self.wizard(n).locator(css).first
        target.scroll_into_view_if_needed()
        target.screenshot(path=str(path))
        return path


def test_submit_change_conflict_update_and_a_monitor_of_500_runs(endpoint, lab, shots):
    from playwright.sync_api import expect

    from lookout_nb.service.demo import demo

    endpoint.lookout().create_inference_scheduler(**demo.scheduler_kwargs("taken"), ClientToken="someone-else")
    endpoint.clock.advance(pd.Timedelta(minutes=30))
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 3000})
        page = context.new_page()
        page.set_default_timeout(PAGE_MS)
        p = Page(page, shots)
        page.goto(lab)
        page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).wait_for(timeout=KERNEL_MS)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
        p.wizard(1).wait_for(timeout=KERNEL_MS)
        assert page.locator(ERRORS).filter(has_text="Traceback").count() == 0

        # Review of a taken name: it says the scheduler exists and how it differs; the input files of recent runs.
        p.tab(1, "Review")
        expect(p.wizard(1).locator(".lnb-review-existing")).to_contain_text("exists already and differs")
        expect(p.wizard(1).locator(".lnb-files-note")).to_contain_text("The last 12 runs")
        p.shot(1, "01-review-existing-and-input-files")

        # The sample rows of each component, at 1400 px.
        p.tab(1, "Input")
        p.button(1, "Preview input").click()
        p.wizard(1).locator(".lnb-preview-samples .lnb-table-box").first.wait_for()
        p.shot(1, "00-input-wide-sample-table", ".lnb-preview-samples")

        # Submit, then change the request: the outcome says it is about the earlier request.
        p.tab(0, "Submit")
        p.button(0, "Submit scheduler").click()
        expect(p.wizard(0).locator(".lnb-monitor-status")).to_contain_text("Status", timeout=PAGE_MS)
        p.tab(0, "Schedule")
        p.field(0, "upload_frequency").select_option(label="PT10M (every 10 minutes)")
        p.tab(0, "Submit")
        expect(p.wizard(0).locator(".lnb-outcome-earlier")).to_contain_text("Earlier, before the request changed")
        p.shot(0, "02-submit-after-a-change")

        # The conflict, listed once, with the Update action; then the update's result.
        p.tab(1, "Submit")
        p.button(1, "Submit scheduler").click()
        conflict = p.wizard(1).locator(".lnb-conflict")
        expect(conflict).to_contain_text("already exists with a different configuration")
        assert "r equested" not in conflict.inner_text() and conflict.inner_text().count("upload_frequency") == 1
        p.shot(1, "03-conflict-with-update")
        p.button(1, "Update 2 fields").click()
        expect(p.wizard(1).locator(".lnb-update-result")).to_contain_text("Updated taken")
        p.tab(1, "Submit")
        p.shot(1, "04-conflict-updated")
        expect(p.wizard(1).locator(".lnb-submit-why")).to_contain_text("taken already runs this request")

        # Stop gives its feedback at once.
        p.tab(0, "Monitor")
        p.button(0, "Stop scheduler").click()
        expect(p.wizard(0).locator(".lnb-monitor-action")).to_contain_text("Stopping lab-5min")
        p.shot(0, "05-monitor-stopping")
        endpoint.clock.advance(pd.Timedelta(seconds=1))
        p.button(0, "Start scheduler").click(timeout=PAGE_MS)
        endpoint.clock.advance(pd.Timedelta(seconds=1))

        # ~500 runs later: the Monitor shows the default range (last 6 hours), then 24 hours, then everything.
        for _ in range(5):
            endpoint.clock.advance(pd.Timedelta(minutes=5 * 100))
        p.button(0, "Refresh").click()
        expect(p.wizard(0).locator(".lnb-monitor-status")).to_contain_text("in last 6 hours", timeout=PAGE_MS)
        page.wait_for_timeout(3000)  # the pictures' PNGs decode
        p.shot(0, "06-monitor-500-runs-last-6-hours")
        p.wizard(0).locator(".lnb-range select").select_option(label="last 24 hours")
        expect(p.wizard(0).locator(".lnb-monitor-status")).to_contain_text("in last 24 hours", timeout=PAGE_MS)
        page.wait_for_timeout(3000)
        p.shot(0, "07-monitor-500-runs-last-24-hours")
        p.wizard(0).locator(".lnb-range select").select_option(label="everything")
        expect(p.wizard(0).locator(".lnb-monitor-status")).to_contain_text("in everything", timeout=PAGE_MS)
        assert p.wizard(0).locator(".lnb-range select").evaluate("e => e.options[e.selectedIndex].text") == (
            "everything")  # the box says which range is shown (a None value showed an empty box)
        page.wait_for_timeout(3000)
        p.shot(0, "08-monitor-500-runs-everything")
        p.shot(0, "09-executions-table", ".lnb-executions")
        # At 900 px the executions table is wider than its box: it scrolls sideways inside the output area.
        page.set_viewport_size({"width": 900, "height": 3000})
        box = p.wizard(0).locator(".lnb-executions .lnb-table-box").first
        page.wait_for_timeout(1000)
        assert box.evaluate("e => e.scrollWidth > e.clientWidth + 50 && getComputedStyle(e).overflowX == 'auto'")
        # ... within the output area, not cut by it: the box's right edge is inside the output's
        assert box.evaluate("e => e.getBoundingClientRect().right <= "
                            "e.closest('.jp-OutputArea-output').getBoundingClientRect().right + 1")
        p.shot(0, "10-executions-table-at-900px", ".lnb-executions")
        context.close()
