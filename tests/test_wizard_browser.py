"""The wizard end to end in real headless Chromium: Voila serves ``tests/browser/wizard_e2e.ipynb``, whose kernel
reaches an embedded endpoint running in this pytest process (so the test moves its manual clock).

Skipped, with the reason, when Chromium, Voila or Playwright is missing, unless the variable ``CI`` is set: then
they must run. Screenshots go to ``artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

import lookout_nb as lnb
from browser_support import chromium, require, voila

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "tests" / "browser"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
#: Generous upper bounds for waiting on the page (never asserted as durations).
TIMEOUT_MS = 30_000
#: For what the auto-refresh shows without a click: its period is at most 30 s (see lookout_nb.wizard.pace).
LIVE_TIMEOUT_MS = 75_000

require("voila")


@pytest.fixture(scope="module")
def browser_endpoint():
    """An embedded endpoint in this process (its manual clock is moved by the test)."""
    from lookout_nb.service import start

    ep = start(port=0, clock="manual", demo=True)
    yield ep
    ep.stop()


@pytest.fixture(scope="module")
def voila_url(browser_endpoint, tmp_path_factory):
    """Voila serving the e2e notebook, its kernels pointed at ``browser_endpoint`` through the environment."""
    env = {**os.environ, **browser_endpoint.env(), "PYTHONPATH": str(ROOT)}
    env.pop("AWS_PROFILE", None)
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with voila(NOTEBOOK_DIR, env, log, timeout=60, extra=["--VoilaConfiguration.show_tracebacks=True"]) as base:
        yield f"{base}/voila/render/wizard_e2e.ipynb"


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, voila_url):
    context = browser.new_context(viewport={"width": 1280, "height": 1700})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(voila_url)
    pg.locator(".lnb-wizard").wait_for()
    yield pg
    context.close()


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.locator(".lnb-wizard").screenshot(path=str(path))
    return path


def tab(page, title: str) -> None:
    page.get_by_role("tab", name=title).click()


def field(page, name: str):
    """The input of a wizard field by its request name (``scheduler_name`` -> ``.lnb-field-scheduler-name``)."""
    return page.locator(f".lnb-field-{name.replace('_', '-')} input, .lnb-field-{name.replace('_', '-')} select").first


def button(page, name: str):
    """A visible button by its accessible name (the Font Awesome icon adds a glyph before the description)."""
    return page.get_by_role("button", name=re.compile(rf"^\W*{re.escape(name)}\s*$"))


def wait_for_picture(page, css_class: str) -> None:
    """Wait until the Image widget with ``css_class`` shows a decoded picture (not an empty or broken image)."""
    page.wait_for_function(
        "cls => { const el = document.querySelector('img.' + cls) || document.querySelector('.' + cls + ' img');"
        " return !!el && el.complete && el.naturalWidth > 100 && el.offsetParent !== null; }",
        arg=css_class,
    )


#: ``YYYY-MM-DD HH:MM:SS``, the times of the DOM contract.
TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


def not_cut(page) -> list[str]:
    """The visible buttons of the wizard whose text does not fit their box (shown as "Use detected na...")."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.lnb-wizard button')].filter(b => b.offsetParent !== null"
        " && b.scrollWidth > b.clientWidth + 1).map(b => b.textContent.trim())"
    )


def left(page, selector: str) -> float:
    return page.locator(selector).first.bounding_box()["x"]


def test_from_model_to_monitored_scheduler_in_a_real_browser(page, browser_endpoint):
    from playwright.sync_api import expect

    from lookout_nb.service.demo import demo

    # 1 Model: the demo model is offered once the models are listed (in a worker thread).
    model = field(page, "model_name")
    expect(model.locator("option", has_text=demo.DEMO_MODEL)).to_have_count(1)
    model.select_option(value=None, label=f"{demo.DEMO_MODEL} (QUALITY_THRESHOLD_MET)")
    expect(page.locator(".lnb-model-details")).to_contain_text("centrifugal-pump")
    expect(page.locator(".lnb-model-details")).to_contain_text("PT1M")
    # The models table: a header over every column, aligned as its cells.
    models = page.locator(".lnb-models table")
    headers = models.locator("thead th")
    assert headers.count() == models.locator("tbody tr").first.locator("td").count()
    assert all(t.strip() for t in headers.all_inner_texts())
    align = page.evaluate("() => { const t = document.querySelector('.lnb-models table');"
                          " return [getComputedStyle(t.querySelector('th')).textAlign,"
                          " getComputedStyle(t.querySelector('td')).textAlign]; }")
    assert align[0] == align[1], align
    expect(page.locator(".lnb-status")).not_to_contain_text("Listing schedulers")
    shot(page, "wizard-model")

    # 2 Schedule: a bad name is flagged as it is typed, then fixed.
    tab(page, "2 Schedule")
    name = field(page, "scheduler_name")
    name.fill("e2e 5min")
    expect(page.locator(".lnb-problem").filter(has_text="is not allowed").first).to_be_visible()
    name.fill("e2e-5min")
    expect(page.locator(".lnb-problem").filter(has_text="is not allowed")).to_have_count(0)
    expect(page.locator(".lnb-wizard")).to_contain_text("all are offered (PT5M to PT1H)")
    shot(page, "wizard-schedule")

    # 3 Input: a wrong naming on purpose, then Preview and Use detected naming.
    tab(page, "3 Input")
    field(page, "input_bucket").fill(demo.DEMO_BUCKET)
    field(page, "input_prefix").fill(demo.DEMO_INPUT_PREFIX)
    field(page, "delimiter").select_option(label="- (hyphen)")
    expect(page.locator(".lnb-example-key")).to_contain_text("inference/input/centrifugal-pump-")
    button(page, "Preview input").click()
    expect(page.locator(".lnb-preview-detected")).to_contain_text("Detected naming", timeout=TIMEOUT_MS)
    expect(page.locator(".lnb-preview-findings")).to_contain_text("name-mismatch")
    expect(page.locator(".lnb-preview-samples")).to_contain_text("Sample rows of")
    assert not_cut(page) == []  # "Use detected naming" shows whole beside the long detected line
    shot(page, "wizard-preview")
    button(page, "Use detected naming").click()
    expect(page.locator(".lnb-preview-detected")).to_contain_text("Applied to the fields")
    expect(field(page, "delimiter").locator("option:checked")).to_have_text("_ (underscore)")
    expect(page.locator(".lnb-preview-findings")).not_to_contain_text("name-mismatch")  # checked again
    expect(page.locator(".lnb-example-key")).to_contain_text("inference/input/centrifugal-pump_")
    shot(page, "wizard-preview-applied")

    # 4 Output and 5 Access.
    tab(page, "4 Output")
    field(page, "output_bucket").fill(demo.DEMO_BUCKET)
    field(page, "output_prefix").fill("e2e/output")
    expect(page.locator(".lnb-problem").filter(has_text="'output/'")).to_be_visible()
    assert "\\u" not in page.locator(".lnb-problem").filter(has_text="'output/'").inner_text()
    field(page, "output_prefix").fill("e2e/output/")
    tab(page, "5 Access & tags")
    field(page, "role_arn").fill(demo.DEMO_ROLE_ARN)
    button(page, "Add tag").click()
    page.locator(".lnb-tag-row input").first.fill("team")
    # The tag key's input starts where the role's input starts, like every other field.
    assert abs(left(page, ".lnb-tag-row input") - left(page, ".lnb-field-role-arn input")) < 2
    assert not_cut(page) == []
    shot(page, "wizard-access")

    # 6 Review: valid, with the boto3 call and the next runs.
    tab(page, "6 Review")
    expect(page.locator(".lnb-review-summary")).to_contain_text("ready to submit")
    expect(page.locator(".lnb-code-python")).to_contain_text("create_inference_scheduler(")
    wait_for_picture(page, "lnb-timing-picture")
    # The DOM contract: the service time, and the first wake-up in the first cell of the next-runs table.
    expect(page.locator(".lnb-service-now")).to_contain_text(re.compile(TIME + " UTC"))
    first = page.locator(".lnb-next-runs tbody tr").first.locator("td").first
    expect(first).to_have_text(re.compile("^" + TIME + "$"))
    wrapped = page.evaluate("() => [...document.querySelectorAll('.lnb-next-runs td')]"
                            ".filter(td => getComputedStyle(td).whiteSpace !== 'nowrap').length")
    assert wrapped == 0
    shot(page, "wizard-review")

    # 7 Submit (a double click submits once), then the Monitor shows the scheduler.
    tab(page, "7 Submit")
    submit = button(page, "Submit scheduler")
    expect(submit).to_be_enabled()
    submit.dblclick()
    status = page.locator(".lnb-monitor-status")
    expect(status).to_contain_text("PENDING")
    expect(status).to_contain_text("inference-scheduler/e2e-5min")
    summaries = browser_endpoint.lookout().list_inference_schedulers()["InferenceSchedulerSummaries"]
    assert [s["InferenceSchedulerName"] for s in summaries] == ["e2e-5min"]  # the double click created one
    created = lnb.request_from_scheduler("e2e-5min", client=browser_endpoint.lookout())
    assert (created.delimiter, created.timestamp_format) == ("_", "yyyyMMddHHmmss")  # the detected naming

    # The monitor is live: the clock moves in this process and the page follows without a click.
    expect(page.locator(".lnb-auto-refresh input")).to_be_checked()
    browser_endpoint.clock.advance(pd.Timedelta(seconds=30))
    expect(status).to_contain_text("RUNNING", timeout=LIVE_TIMEOUT_MS)
    browser_endpoint.clock.advance(pd.Timedelta(minutes=15))
    executions = page.locator(".lnb-executions")
    expect(executions.locator("td", has_text="SUCCESS")).to_have_count(3, timeout=LIVE_TIMEOUT_MS)
    expect(executions.locator("table tbody tr")).to_have_count(3)
    wait_for_picture(page, "lnb-plan-picture")
    wait_for_picture(page, "lnb-results-picture")
    expect(page.locator(".lnb-plan-caption")).to_have_text(
        re.compile(f"Time axis {TIME} to {TIME} UTC; now {TIME} UTC"))
    assert page.locator(".lnb-errors [role=alert]").count() == 0
    shot(page, "monitor")

    # Stop from the monitor: STOPPING, then STOPPED once the clock moves.
    button(page, "Stop scheduler").click()
    expect(status).to_contain_text("STOPPING")
    browser_endpoint.clock.advance(pd.Timedelta(seconds=30))
    expect(status).to_contain_text("STOPPED", timeout=LIVE_TIMEOUT_MS)  # no click: the auto-refresh shows it
    expect(button(page, "Delete scheduler")).to_be_enabled()
