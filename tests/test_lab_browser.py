"""The wizard as a new user meets it: ``lookout-nb demo`` (60x clock), JupyterLab in headless Chromium, Run All,
then all eight steps from Model to a running, monitored scheduler.

What a user must see is asserted on the page and against the endpoint's own clock (``GET /_lookout-nb/clock``):
Review's first run within one upload period of the service's now, Monitor reaching RUNNING and listing executions
with no click on Refresh, and the plan picture's now line inside its time axis, near the service's now, moving.

The demo runs from an empty temporary folder with a temporary HOME and Jupyter config/runtime dirs (the user's
settings stay out; autosave is off and checkpoints go to the temporary folder, so the served notebook is never
written). One screenshot per step goes to ``$LOOKOUT_NB_SCREENSHOTS`` (default: the test's tmp dir) as
``01-model.png`` ... ``09-monitor.png``, replacing those of an earlier run, with ``figures.json`` (the lags and
the time from Submit to the first execution); ``scripts/refresh_docs_images.sh`` copies two to ``docs/images/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from browser_support import chromium, require
from lookout_nb._children import descendants, start_time

pytestmark = pytest.mark.browser
require("jupyterlab")

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS_ENV = "LOOKOUT_NB_SCREENSHOTS"
#: Generous upper bounds for waiting (never asserted as durations), in seconds.
START_S, KERNEL_S, PAGE_S, SERVICE_S = 120, 120, 60, 60
#: How long a contract element may take to show once its step has rendered.
ELEMENT_S = 10
#: The service's now on the page trails the endpoint by the time the wizard takes to read it, draw the picture and
#: show it: about 4 s of real time on a busy 2-core machine, so 4 service minutes at 60x. Allowed: 10 real seconds
#: (10 service minutes at 60x); a wizard on the wall clock is half an hour to an hour off by then.
LAG_REAL_S = 10
TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
#: What cells wrote on stderr (JupyterLab shows a cell's traceback there too).
ERRORS = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
CAPTION = re.compile(rf"Time axis ({TIME}) to ({TIME}) UTC; now ({TIME}) UTC")
SCHEDULER = "lab-5min"
SPEED = 60  # the demo's clock, service seconds per real second
PERIOD = pd.Timedelta(minutes=5)  # PT5M, the wizard's default upload frequency, delay 0


# -- the demo, as a user starts it -------------------------------------------------------------------------------
class Demo:
    """``lookout-nb demo --no-browser`` in its own session; ``stop()`` is Ctrl-C, then kills whatever is left."""

    def __init__(self, base: Path):
        self.base = base
        self.log = base / "demo.log"
        self.process: subprocess.Popen | None = None
        self.lab_url = self.endpoint_url = ""

    def start(self) -> Demo:
        work, home, config, runtime = (self.base / d for d in ("work", "home", "config", "runtime"))
        for folder in (work, home, config, runtime):
            folder.mkdir(parents=True)
        _write_settings(config, self.base / "checkpoints")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTER", "IPYTHON"))}
        env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(runtime),
                   JUPYTER_DATA_DIR=str(home / "data"), JUPYTERLAB_SETTINGS_DIR=str(config / "lab" / "user-settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(config / "lab" / "workspaces"), IPYTHONDIR=str(home / "ipython"),
                   PYTHONPATH=str(ROOT))
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "lookout_nb.cli", "demo", "--no-browser", "--port", "0", "--speed", str(SPEED)],
                cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True,
                start_new_session=True)  # no terminal: Ctrl-C stops JupyterLab without asking
        lines = _lines(self.process.stdout)
        printed, deadline = [], time.monotonic() + START_S
        while not self.lab_url and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if line is None:
                break
            printed.append(line)
            if m := re.search(r"Embedded endpoint:\s+(http://[^\s,;()]+)", line):
                self.endpoint_url = m[1]
            if m := re.search(r"JupyterLab:\s+(http://\S+)", line):
                self.lab_url = m[1]
        if not (self.lab_url and self.endpoint_url):
            raise AssertionError(f"lookout-nb demo printed no JupyterLab and endpoint URL within {START_S}s:\n"
                                 f"{''.join(printed)}\n{self.log_tail()}")
        return self

    def service_now(self) -> pd.Timestamp:
        """The endpoint's clock, read from the endpoint itself."""
        with urllib.request.urlopen(self.endpoint_url + "/_lookout-nb/clock", timeout=10) as answer:
            return pd.Timestamp(json.load(answer)["now"]).tz_convert("UTC")

    def log_tail(self, chars: int = 3000) -> str:
        return "demo log (JupyterLab and the kernel):\n" + (self.log.read_text(errors="replace")[-chars:]
                                                            if self.log.exists() else "(none)")

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; then kill the demo's group and the kernels it started, if any is left."""
        if self.process is None:
            return
        left = descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the session this test started
        for pid, started in left:  # kernels run in sessions of their own
            if start_time(pid) == started:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _write_settings(config: Path, checkpoints: Path) -> None:
    """JupyterLab as fresh as a new user's, minus what would write the served notebook or pop up a question."""
    (config / "jupyter_server_config.json").write_text(json.dumps(
        {"FileCheckpoints": {"checkpoint_dir": str(checkpoints)}}))
    settings = config / "lab" / "user-settings" / "@jupyterlab"
    for plugin, values in {"docmanager-extension/plugin": {"autosave": False},
                           "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _lines(stream) -> queue.Queue:
    """The lines of ``stream`` as they come (None at its end), read in a thread so waiting can time out."""
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True, name="demo-stdout").start()
    return lines


# -- the page --------------------------------------------------------------------------------------------------
class Walk:
    """The wizard's page with the steps' helpers; hard failures name the step, soft ones are collected."""

    def __init__(self, page, demo: Demo, shots: Path):
        self.page, self.demo, self.shots = page, demo, shots
        self.failures: list[str] = []
        self.step_name = "opening JupyterLab"
        self.shot_count = 0

    @contextlib.contextmanager
    def step(self, name: str):
        """A step that must pass for the walk to go on: a failure stops the test, naming the step."""
        from playwright.sync_api import Error as PlaywrightError

        self.step_name = name
        try:
            yield
        except (AssertionError, PlaywrightError) as err:
            with contextlib.suppress(Exception):
                self.page.screenshot(path=str(self.shots / "failed-page.png"))
            raise AssertionError(self._report(f"step {name!r} failed: {_first_lines(err)}")) from None

    @contextlib.contextmanager
    def check(self, what: str):
        """A contract check: a failure is recorded (naming step and check) and the walk goes on."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            yield
        except (AssertionError, PlaywrightError) as err:
            self.failures.append(f"{self.step_name}: {what}: {_first_lines(err)}")

    def finish(self) -> None:
        if self.failures:
            raise AssertionError(self._report("what a user sees is wrong:\n- " + "\n- ".join(self.failures)))

    def _report(self, text: str) -> str:
        shown = ""
        for what, css in (("wizard error area", ".lnb-wizard .lnb-errors [role=alert]"), ("notebook stderr", ERRORS)):
            with contextlib.suppress(Exception):
                texts = [t.strip()[-800:] for t in self.page.locator(css).all_inner_texts() if t.strip()]
                shown += f"\n{what}: " + " | ".join(texts) if texts else ""
        return f"{text}{shown}\nscreenshots: {self.shots}\n{self.demo.log_tail(1500)}"

    # helpers
    def tab(self, word: str) -> None:
        """Show the step whose tab title has ``word`` ("Access" and "Tags" may share one tab)."""
        tabs = self.page.get_by_role("tab", name=re.compile(rf"^\d+ .*\b{re.escape(word)}\b", re.I))
        tabs.first.click()

    def field(self, name: str):
        css = f".lnb-field-{name.replace('_', '-')}"
        return self.page.locator(f"{css} input, {css} select").first

    def button(self, name: str):
        return self.page.get_by_role("button", name=re.compile(rf"^\W*{re.escape(name)}\s*$"))

    def text(self, css: str, what: str, timeout_s: float = ELEMENT_S) -> str:
        """The text of the first ``css`` element; a failure names the element and what it should show."""
        element = self.page.locator(css).first
        try:
            element.wait_for(state="attached", timeout=timeout_s * 1000)
        except Exception:  # noqa: BLE001 - Playwright's timeout, said in the contract's words
            raise AssertionError(f"no element {css} ({what}) on the page after {timeout_s:g}s") from None
        return element.inner_text()

    def picture(self, css_class: str, timeout_s: float = PAGE_S) -> None:
        """Wait until the Image widget with ``css_class`` shows a decoded picture."""
        self.page.wait_for_function(
            "cls => { const el = document.querySelector('img.' + cls) || document.querySelector('.' + cls + ' img');"
            " return !!el && el.complete && el.naturalWidth > 100 && el.offsetParent !== null; }",
            arg=css_class, timeout=timeout_s * 1000)

    def shot(self, name: str) -> Path:
        """An element screenshot of the wizard's output area (a page screenshot stops at the notebook's scroll)."""
        self.shot_count += 1
        path = self.shots / f"{self.shot_count:02d}-{name}.png"
        self.page.locator(".jp-OutputArea-output", has=self.page.locator(".lnb-wizard")).screenshot(path=str(path))
        return path


def _first_lines(err: BaseException, n: int = 6) -> str:
    return "\n  ".join(str(err).strip().splitlines()[:n])


def _minutes(delta: pd.Timedelta) -> str:
    return f"{delta.total_seconds() / 60:g} service min"


def _times(text: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(t, tz="UTC") for t in re.findall(TIME, text)]


def _caption(walk: Walk) -> tuple[str, tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]]:
    text = walk.text(".lnb-plan-caption", "the plan picture's caption 'Time axis A to B UTC; now N UTC'")
    m = CAPTION.search(text)
    assert m, f".lnb-plan-caption reads {text!r}, not 'Time axis A to B UTC; now N UTC'"
    return text, tuple(pd.Timestamp(t, tz="UTC") for t in m.groups())


# -- fixtures --------------------------------------------------------------------------------------------------
@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for old in [*folder.glob("[0-9][0-9]-*.png"), *folder.glob("failed-page.png")]:
        old.unlink()
    return folder


@pytest.fixture
def demo(tmp_path):
    running = Demo(tmp_path / "demo")
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
def walk(demo, shots):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1600, "height": 2600})
        page = context.new_page()
        page.set_default_timeout(PAGE_S * 1000)
        try:
            yield Walk(page, demo, shots)
        finally:
            context.close()


# -- the test --------------------------------------------------------------------------------------------------
def test_wizard_in_jupyterlab_from_run_all_to_a_monitored_scheduler(walk, demo, shots):
    from playwright.sync_api import expect

    from lookout_nb.service.demo import demo as seed

    page, figures = walk.page, {}
    lag = pd.Timedelta(seconds=LAG_REAL_S * SPEED)
    with walk.step("Run All"):
        page.goto(demo.lab_url)
        page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).wait_for(timeout=KERNEL_S * 1000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
        failed = page.locator(ERRORS).filter(has_text="Traceback")
        page.locator(".lnb-wizard").or_(failed).first.wait_for(timeout=KERNEL_S * 1000)
        assert failed.count() == 0, "a cell of the notebook failed"

    with walk.step("Model"):
        expect(walk.field("model_name").locator("option", has_text=seed.DEMO_MODEL)).to_have_count(1)
        walk.field("model_name").select_option(label=f"{seed.DEMO_MODEL} (QUALITY_THRESHOLD_MET)")
        expect(page.locator(".lnb-model-details")).to_contain_text("centrifugal-pump")
        walk.shot("model")

    with walk.step("Schedule"):
        walk.tab("Schedule")
        walk.field("scheduler_name").fill(SCHEDULER)
        expect(walk.field("upload_frequency").locator("option:checked")).to_contain_text("PT5M")
        expect(page.locator(".lnb-problem").filter(has_text=re.compile(r"\S"))).to_have_count(0)
        walk.shot("schedule")

    with walk.step("Input"):
        walk.tab("Input")
        walk.field("input_bucket").fill(seed.DEMO_BUCKET)
        walk.field("input_prefix").fill(seed.DEMO_INPUT_PREFIX)
        walk.button("Preview input").click()
        expect(page.locator(".lnb-preview-detected")).to_contain_text("Detected naming")
        expect(page.locator(".lnb-preview-samples")).to_contain_text("Sample rows of")
        walk.shot("input")

    with walk.step("Output"):
        walk.tab("Output")
        walk.field("output_bucket").fill(seed.DEMO_BUCKET)
        walk.field("output_prefix").fill("lab/output/")
        walk.shot("output")

    with walk.step("Access"):
        walk.tab("Access")
        walk.field("role_arn").fill(seed.DEMO_ROLE_ARN)
        walk.shot("access")

    with walk.step("Tags"):
        walk.tab("Tags")
        walk.button("Add tag").click()
        page.get_by_role("textbox", name="Tag key").last.fill("team")
        page.get_by_role("textbox", name="Tag value").last.fill("reliability")
        walk.shot("tags")

    with walk.step("Review"):
        before = demo.service_now()
        walk.tab("Review")
        expect(page.locator(".lnb-review-summary")).to_contain_text("ready to submit")
        expect(page.locator(".lnb-code-python")).to_contain_text("'Key': 'team'")
        first_cell = page.locator(".lnb-next-runs table tbody tr").first.locator("td").first
        first_cell.wait_for()
        after = demo.service_now()
        walk.picture("lnb-timing-picture")
        first_run = _times(first_cell.inner_text())
        assert first_run, f"the next runs table's first cell {first_cell.inner_text()!r} is no time"
        first_run = first_run[0]
        walk.shot("review")
    with walk.check("the first run is within one upload period of the service's now (the endpoint's clock)"):
        assert before - PERIOD < first_run <= after + PERIOD, (
            f"first wake-up {first_run} is not within {_minutes(PERIOD)} of the service's now ({before} to {after} "
            f"while Review planned): the wizard plans on another clock")
    with walk.check("the wizard shows the service's now it plans from"):
        shown = _times(walk.text(".lnb-service-now", "the service time the wizard uses, YYYY-MM-DD HH:MM:SS"))
        assert shown, ".lnb-service-now shows no time YYYY-MM-DD HH:MM:SS"
        assert before.floor("s") - lag <= shown[0] <= after + lag, (
            f".lnb-service-now shows {shown[0]}; the endpoint's clock read {before} to {after}")
        assert shown[0] < first_run <= shown[0] + PERIOD, f"first wake-up {first_run} is not the next after {shown[0]}"
        figures["review_now_lag_service_s"] = (after - shown[0]).total_seconds()

    with walk.step("Submit"):
        walk.tab("Submit")
        submit = walk.button("Submit scheduler")
        expect(submit).to_be_enabled()
        walk.shot("submit")
        submitted = time.monotonic()
        submit.click()
        status = page.locator(".lnb-monitor-status")
        expect(status).to_contain_text(f"inference-scheduler/{SCHEDULER}", timeout=SERVICE_S * 1000)

    walk.step_name = "Monitor"  # from here on, never a click: the monitor must refresh by itself
    with walk.check("auto-refresh is on after Submit"):
        expect(page.get_by_role("checkbox", name="Auto-refresh")).to_be_checked(timeout=ELEMENT_S * 1000)
    with walk.check("the status reaches RUNNING without a click on Refresh"):
        page.locator(".lnb-monitor-status .lnb-status-RUNNING").wait_for(timeout=SERVICE_S * 1000)
        with walk.check("executions show without a click on Refresh"):
            page.locator(".lnb-executions table tbody tr").first.wait_for(timeout=SERVICE_S * 1000)
            waited = time.monotonic() - submitted
            figures["submit_to_first_execution"] = {"real_s": round(waited, 1),
                                                   "service_min": round(waited * SPEED / 60, 1)}
    with walk.check("the plan-versus-actual picture shows"):
        walk.picture("lnb-plan-picture", SERVICE_S)
    walk.shot("monitor")
    with walk.check("the plan picture's now line is inside its time axis"):
        text, (start, end, now) = _caption(walk)
        assert start <= now <= end, f"now {now} is outside the time axis {start} to {end} ({text!r})"
        with walk.check("the now line moves between two refreshes, with the service's clock"):
            clock_before = demo.service_now()
            page.wait_for_function("old => { const el = document.querySelector('.lnb-plan-caption');"
                                   " return !!el && el.innerText !== old; }", arg=text, timeout=SERVICE_S * 1000)
            clock_after = demo.service_now()
            text, (start, end, moved) = _caption(walk)
            assert start <= moved <= end, f"now {moved} is outside the time axis {start} to {end} ({text!r})"
            assert moved > now, f"the picture's now went from {now} to {moved}"
            assert clock_before - lag <= moved <= clock_after + lag, (
                f"the picture's now {moved} is not within {_minutes(lag)} of the endpoint's clock ({clock_before} to "
                f"{clock_after} while it refreshed)")
            figures["monitor_now_lag_service_s"] = (clock_after - moved).total_seconds()
    (shots / "figures.json").write_text(json.dumps(figures, indent=2))
    print(f"\nscreenshots in {shots}; figures: {figures}")
    walk.finish()
