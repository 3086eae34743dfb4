"""``lookout-nb serve``: the parser, and a real server process that prints its URL and the variables."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import boto3
import pandas as pd
import pytest

from lookout_nb.service.cli import add_serve_parser


def test_serve_parser_accepts_the_documented_options():
    parser = argparse.ArgumentParser()
    add_serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["serve", "--port", "0", "--clock", "real", "--speed", "60", "--demo", "--state-dir", "/tmp/x"])
    assert (args.port, args.host, args.clock, args.speed, args.demo, args.state_dir) == (
        0, "127.0.0.1", "real", 60.0, True, "/tmp/x")
    assert args.cors_origin is None
    args = parser.parse_args(["serve", "--cors-origin", "http://localhost:8888", "--cors-origin", "https://lab.example"])
    assert args.cors_origin == ["http://localhost:8888", "https://lab.example"]


def test_serve_prints_url_and_exports_then_serves_until_terminated(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lookout_nb.service.cli", "serve", "--port", "0", "--clock", "manual", "--demo"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        lines = []
        while not any(line.startswith("export AWS_DEFAULT_REGION=") for line in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line.strip())
        exports = dict(line[len("export "):].split("=", 1) for line in lines if line.startswith("export "))
        assert set(exports) == {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert exports["AWS_ENDPOINT_URL"] in lines[0]
        client = boto3.client(
            "lookoutequipment", endpoint_url=exports["AWS_ENDPOINT_URL"], region_name=exports["AWS_DEFAULT_REGION"],
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"], aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        )
        assert [m["ModelName"] for m in client.list_models()["ModelSummaries"]] == ["pump-demo"]
        from lookout_nb.service import RemoteClock

        assert RemoteClock(exports["AWS_ENDPOINT_URL"]).advance("PT5M") == pd.Timestamp("2026-01-05T09:05Z")
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0


def test_serve_with_a_state_dir_that_cannot_be_created_says_so_in_one_line(tmp_path, capsys):
    from lookout_nb.service.cli import main

    (tmp_path / "a-file").write_text("")
    bad = tmp_path / "a-file" / "state"
    assert main(["serve", "--port", "0", "--clock", "manual", "--state-dir", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and "Traceback" not in err


def test_serve_with_an_unreadable_state_file_says_so_in_one_line(tmp_path, capsys):
    from lookout_nb.service.cli import main

    (tmp_path / "state.db").write_text("{ not a database")
    assert main(["serve", "--port", "0", "--clock", "manual", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tmp_path / "state.db") in err


@pytest.mark.parametrize("option", [["--speed", "-5"], ["--speed", "nan"], ["--speed", "inf"], ["--port", "99999"]])
def test_serve_refuses_a_bad_speed_or_port_in_one_line(option, capsys):
    from lookout_nb.service.cli import main

    assert main(["serve", "--clock", "real", *option]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and option[0] in err and "Traceback" not in err
