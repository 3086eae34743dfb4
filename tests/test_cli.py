"""The lookout-nb command: check a saved request, and the demo a new user starts first."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from lookout_nb import SchedulerRequest
from lookout_nb.cli import main


def test_check_lists_every_problem_and_fails(tmp_path, capsys):
    path = tmp_path / "request.json"
    path.write_text(SchedulerRequest(model_name="pump", upload_frequency="PT2M", input_prefix="in").to_json())
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}: DataUploadFrequency: must be one of PT5M, PT10M, PT15M, PT30M, PT1H" in out
    assert "DataInputConfiguration.S3InputConfiguration.Prefix" in out


def test_check_passes_a_valid_request_and_knows_the_sampling_rate(tmp_path, capsys):
    path = tmp_path / "request.json"
    path.write_text(SchedulerRequest(
        model_name="pump", scheduler_name="s", upload_frequency="PT5M", input_bucket="in-b", output_bucket="out-b",
        role_arn="arn:aws:iam::123456789012:role/r").to_json())
    assert main(["check", str(path)]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["check", str(path), "--sampling-rate", "PT10M"]) == 1
    assert "finer than the model's sampling rate" in capsys.readouterr().out


def test_check_refuses_a_sampling_rate_the_api_does_not_have(tmp_path, capsys):
    path = tmp_path / "request.json"
    path.write_text("{}")
    with pytest.raises(SystemExit) as exit_:
        main(["check", str(path), "--sampling-rate", "5min"])
    assert exit_.value.code == 2
    assert "PT5M" in capsys.readouterr().err


def test_check_of_an_unreadable_file_says_which(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert main(["check", str(path)]) == 2
    assert f"cannot read {path}" in capsys.readouterr().err


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "directory"])
def test_check_refuses_what_is_not_a_regular_file_at_once(tmp_path, capsys, special):
    path = {"fifo": tmp_path / "request.json", "directory": tmp_path}.get(special, special)
    if special == "fifo":
        os.mkfifo(path)  # no writer: opening it for reading the usual way would block forever
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"cannot read {path}" in err


def test_check_refuses_a_file_larger_than_a_request_can_be(tmp_path, capsys):
    from lookout_nb.cli import CHECK_MAX_BYTES

    path = tmp_path / "huge.json"
    path.write_text('{"Tags": [' + ", ".join(['{"Key": "k", "Value": "v"}'] * (CHECK_MAX_BYTES // 20)) + "]}")
    assert main(["check", str(path)]) == 2
    assert "larger than 1,048,576 bytes" in capsys.readouterr().err


def test_check_of_deeply_nested_json_says_so_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["check", str(path)]) == 2
    assert "nested too deeply" in capsys.readouterr().err


def test_demo_serves_jupyterlab_on_the_wizard_and_stops_on_ctrl_c(tmp_path):
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "lookout_nb.cli", "demo", "--no-browser", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        lines, deadline = [], time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("JupyterLab:"):
                break
        text = "".join(lines)
        lab = re.search(r"JupyterLab:\s+(http://127\.0\.0\.1:\d+)/lab/tree/01_wizard\.ipynb\?token=(\w+)", text)
        endpoint = re.search(r"Embedded endpoint: (http://127\.0\.0\.1:\d+)", text)
        assert lab and endpoint, text
        base, token = lab.groups()
        with urllib.request.urlopen(f"{base}/api/contents/01_wizard.ipynb?token={token}", timeout=30) as r:
            assert json.load(r)["name"] == "01_wizard.ipynb"
        request = urllib.request.Request(endpoint.group(1) + "/", headers={
            "X-Amz-Target": "AWSLookoutEquipmentFrontendService.ListModels",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260105/us-east-1/lookoutequipment/aws4_request"},
            data=b"{}")
        with urllib.request.urlopen(request, timeout=30) as r:
            assert json.load(r)["ModelSummaries"][0]["ModelName"] == "pump-demo"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
