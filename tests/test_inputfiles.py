"""One reader for the preview and the run: whatever the preview says of a file, the scheduled run does."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lookout_nb import SchedulerRequest, preview_input
from lookout_nb.contract.inputfiles import MAX_HEADER_BYTES, read_input
from lookout_nb.service.demo import demo

SLOT = pd.Timestamp("2026-01-05T09:00Z")
PUMP = "centrifugal-pump"


def pump_file(header="Timestamp,Flow,DischargePressure,Vibration", cell=lambda i, j: f"{100 + i + j:.1f}") -> bytes:
    rows = [header] + [f"{(SLOT + pd.Timedelta(minutes=i)).strftime('%Y-%m-%dT%H:%M:%S.%f')},"
                       + ",".join(cell(i, j) for j in range(3)) for i in range(1, 6)]
    return ("\n".join(rows) + "\n").encode()


CASES = {
    "clean": (pump_file(), None, set()),
    "spaces around names": (pump_file(header="Timestamp, Flow ,DischargePressure , Vibration"), None, set()),
    "text in a sensor cell": (pump_file(cell=lambda i, j: "abc" if (i, j) == (3, 1) else "1.0"),
                              "sensor columns hold values that are not numbers: DischargePressure (e.g. 'abc')",
                              {"not-numeric"}),
    "a sensor without values": (pump_file(cell=lambda i, j: "" if j == 2 else "1.0"),
                                "has no value for Vibration in any of its 5 rows", {"no-values"}),
    "infinite values": (pump_file(cell=lambda i, j: "inf" if (i, j) == (2, 0) else "-INF" if i == 4 else "1.0"),
                        None, {"non-finite"}),
    "one huge line": (b"Timestamp" + b",1.0" * (MAX_HEADER_BYTES // 2), "has a first line longer than 65,536 bytes",
                      {"line-too-long"}),
    "unreadable timestamp": (pump_file().replace(b"2026-01-05T09:03:00.000000", b"tea time"),
                             "1 of 5 row timestamps cannot be read (e.g. 'tea time' on data row 3)",
                             {"timestamp-unparseable"}),
}


@pytest.mark.parametrize("case", CASES)
def test_the_preview_and_the_run_give_the_same_verdict(endpoint, lookout, s3, unique_bucket, case):
    body, reason, codes = CASES[case]
    req = SchedulerRequest.from_boto3(demo.scheduler_kwargs("reader")).replace(input_bucket=unique_bucket,
                                                                               input_prefix="in/")
    demo.write_input_files(s3, unique_bucket, "in/", {"motor": demo.DEMO_COMPONENTS["motor"]}, SLOT,
                           SLOT + pd.Timedelta(minutes=5), naming=req.naming, create_bucket=False)
    key = req.naming.key(PUMP, SLOT, "in/")
    s3.put_object(Bucket=unique_bucket, Key=key, Body=body)
    lookout.create_inference_scheduler(**req.to_boto3())
    pv = preview_input(req, s3=s3, client=lookout, progress=False, now="newest")
    mine = {f.code for f in pv.findings if key in f.keys}
    assert codes == mine, pv.findings

    endpoint.clock.set(SLOT + pd.Timedelta(minutes=5) + req.delay)
    [run] = lookout.list_inference_executions(InferenceSchedulerName="reader")["InferenceExecutionSummaries"]
    if reason is None:
        assert run["Status"] == "SUCCESS", run.get("FailedReason")
        assert pv.ok
        out = run["CustomerResultObject"]
        lines = s3.get_object(Bucket=out["Bucket"], Key=out["Key"])["Body"].read().decode().splitlines()
        assert [json.loads(line, parse_constant=_refuse) for line in lines]  # strict JSON, no NaN or Infinity
    else:
        assert run["Status"] == "FAILED" and reason in run["FailedReason"], run.get("FailedReason")
        [finding] = [f for f in pv.errors if key in f.keys]
        assert finding.message == run["FailedReason"]  # word for word


def _refuse(name):
    raise ValueError(f"results.jsonl holds {name}")


def test_a_header_only_sample_of_a_bigger_file_is_not_called_empty():
    body = pump_file()
    head = body[: body.index(b"\n") + 5]
    assert read_input(head, "k", size=len(body)).problems == []
    assert [p.code for p in read_input(body[: body.index(b"\n") + 1], "k").problems] == ["empty-file"]


def test_names_and_rows_are_named_in_every_message():
    read = read_input(b"Timestamp;Flow\n2026-01-05T09:01:00;1\n", "in/p.csv", sensors=["Flow"])
    assert [(p.code, p.level) for p in read.problems] == [("csv-delimiter", "error")]
    assert read.problems[0].message.startswith("File in/p.csv separates its columns with ';'")


def test_a_trailing_comma_and_columns_outside_the_schema_do_not_fail_the_file():
    body = (b"Timestamp,Flow,Status,Spare\n2026-01-05T09:01:00,1.5,ok,,\n2026-01-05T09:02:00,2.5,ok,,\n")
    read = read_input(body, "in/p.csv", sensors=["Flow"])
    assert [(p.code, p.level) for p in read.problems] == [("extra-columns", "warning")]
    assert read.table["Flow"].tolist() == [1.5, 2.5]
    bad = read_input(b"Timestamp,Flow\nsoon,1,\n2026-01-05T09:02:00,2,\n", "in/p.csv", sensors=["Flow"])
    assert "(e.g. 'soon' on data row 1)" in bad.errors[0].message
