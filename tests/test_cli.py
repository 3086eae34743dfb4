"""The lookout-nb command: check a saved request, and the demo a new user starts first."""

import hashlib
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from lookout_nb import SchedulerRequest
from lookout_nb.cli import main
from lookout_nb.errors import LookoutNbError
from lookout_nb.notebook_copies import RECORD, copy_notebooks, shipped_notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
DEMO_DATA = ("model pump-demo; input files in s3://lookout-demo/inference/input/, "
             "results in s3://lookout-demo/inference/output/")


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


# -- the notebooks the demo serves: copies in a folder the user owns ---------------------------------------------
def test_a_clone_ships_its_notebooks_folder():
    assert shipped_notebooks() == ROOT / "notebooks"


def test_notebooks_are_copied_once_and_an_edited_copy_is_kept(tmp_path):
    folder = tmp_path / "work"
    first = copy_notebooks(folder)
    assert first.copied == NOTEBOOKS and not first.kept
    assert all((folder / n).read_bytes() == (ROOT / "notebooks" / n).read_bytes() for n in NOTEBOOKS)
    wizard = folder / "01_wizard.ipynb"
    wizard.write_text(wizard.read_text().replace("scheduler wizard", "scheduler wizard, my notes"))
    again = copy_notebooks(folder)
    assert again.copied == [] and again.kept == ["01_wizard.ipynb"] and len(again.unchanged) == len(NOTEBOOKS) - 1
    assert "my notes" in wizard.read_text()
    assert "kept your edited 01_wizard.ipynb (delete it to get the shipped version)" in again.summary()


def test_an_unedited_copy_follows_a_newer_shipped_notebook_and_an_edited_one_does_not(tmp_path):
    shipped, folder = tmp_path / "shipped", tmp_path / "work"
    shipped.mkdir()
    (shipped / "a.ipynb").write_text("version 1")
    (shipped / "b.ipynb").write_text("version 1")
    copy_notebooks(folder, source=shipped)
    (folder / "b.ipynb").write_text("my edit")
    (shipped / "a.ipynb").write_text("version 2")
    (shipped / "b.ipynb").write_text("version 2")
    report = copy_notebooks(folder, source=shipped)
    assert report.copied == ["a.ipynb"] and report.kept == ["b.ipynb"]
    assert (folder / "a.ipynb").read_text() == "version 2" and (folder / "b.ipynb").read_text() == "my edit"
    (folder / RECORD).write_text("{broken")  # without the record, every differing copy counts as edited
    (shipped / "a.ipynb").write_text("version 3")
    assert copy_notebooks(folder, source=shipped).kept == ["a.ipynb", "b.ipynb"]


def test_demo_refuses_a_notebooks_folder_it_cannot_write_and_says_which(tmp_path, capsys):
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    with pytest.raises(LookoutNbError, match="--notebooks DIR"):
        copy_notebooks(taken)
    assert main(["demo", "--notebooks", str(taken), "--no-browser"]) == 2
    assert f"cannot copy the notebooks into {taken}" in capsys.readouterr().err


def test_serve_demo_banner_names_the_demo_bucket_and_prefixes(endpoint):
    from lookout_nb.service.cli import banner

    assert f"# demo {DEMO_DATA}" in banner(endpoint).splitlines()


# -- lookout-nb serve: credentials, hosts other machines reach, the banner's bound address ---------------------------
def serve_process(*options, env=None):
    """``lookout-nb serve --port 0 --clock manual OPTIONS`` in a subprocess; returns it and its banner lines."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOOKOUT_NB_"))},
           "PYTHONPATH": str(ROOT), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "lookout_nb.cli", "serve", "--port", "0", "--clock", "manual",
                             *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    while not lines or not lines[-1].startswith("# press Ctrl-C"):
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            pytest.fail(f"serve exited: {proc.stderr.read()}")
        lines.append(line.rstrip("\n"))
    return proc, lines


def stop(proc) -> str:
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    return proc.stderr.read()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", ""])
def test_serve_on_a_host_other_machines_reach_needs_credentials_and_says_so_in_one_line(host, capsys, monkeypatch):
    monkeypatch.delenv("LOOKOUT_NB_CREDENTIALS", raising=False)
    assert main(["serve", "--host", host, "--port", "0", "--clock", "manual"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--credentials" in err and "--insecure" in err and "other machines" in err


def test_serve_refuses_unusable_credentials_in_one_line(capsys, monkeypatch):
    monkeypatch.setenv("LOOKOUT_NB_CREDENTIALS", "no-colon-here")
    assert main(["serve", "--port", "0", "--clock", "manual"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "LOOKOUT_NB_CREDENTIALS must be ACCESS_KEY:SECRET_KEY" in err


def test_demo_refuses_unusable_credentials_before_copying_anything(tmp_path, capsys):
    assert main(["demo", "--credentials", "key-without-secret", "--notebooks", str(tmp_path / "nb")]) == 2
    assert "--credentials must be ACCESS_KEY:SECRET_KEY" in capsys.readouterr().err
    assert not (tmp_path / "nb").exists()


def test_serve_on_an_address_this_machine_does_not_have_says_so_in_one_line(capsys):
    assert main(["serve", "--host", "192.0.2.7", "--insecure", "--port", "0", "--clock", "manual"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("lookout-nb serve: warning: --insecure")
    assert len(err) == 2 and err[1].startswith("lookout-nb serve: cannot listen on 192.0.2.7:0")


def test_serve_on_a_port_in_use_says_so_in_one_line(capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--clock", "manual"]) == 2
    err = capsys.readouterr().err
    assert err == f"lookout-nb serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_serve_insecure_on_every_interface_warns_and_the_banner_shows_the_bound_address():
    proc, lines = serve_process("--host", "0.0.0.0", "--insecure")
    port = re.search(r"http://127\.0\.0\.1:(\d+)", lines[0]).group(1)
    assert f"listening on 0.0.0.0:{port}" in lines[0]
    import boto3

    exports = dict(line[len("export "):].split("=", 1) for line in lines if line.startswith("export "))
    client = boto3.client("s3", endpoint_url=exports["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="anyone", aws_secret_access_key="anything")
    assert "Buckets" in client.list_buckets()
    err = stop(proc)
    assert "warning: --insecure" in err and "0.0.0.0" in err


def test_serve_takes_credentials_from_the_environment_and_verifies_them():
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from lookout_nb.service import RemoteClock

    proc, lines = serve_process("--host", "0.0.0.0", "--demo", env={"LOOKOUT_NB_CREDENTIALS": "plant1:cli-secret"})
    try:
        assert "cli-secret" not in "\n".join(lines)  # the banner never prints the secret
        exports = dict(line[len("export "):].split("=", 1) for line in lines if line.startswith("export "))
        assert exports["AWS_ACCESS_KEY_ID"] == "plant1" and "AWS_SECRET_ACCESS_KEY" not in exports

        def lookout(secret):
            return boto3.client("lookoutequipment", endpoint_url=exports["AWS_ENDPOINT_URL"], region_name="us-east-1",
                                aws_access_key_id="plant1", aws_secret_access_key=secret,
                                config=Config(retries={"max_attempts": 1}))

        assert [m["ModelName"] for m in lookout("cli-secret").list_models()["ModelSummaries"]] == ["pump-demo"]
        with pytest.raises(ClientError, match="InvalidSignatureException"):
            lookout("guess").list_models()
        clock = RemoteClock(exports["AWS_ENDPOINT_URL"], credentials=("plant1", "cli-secret"))
        assert clock.advance("PT5M") == clock.now()
    finally:
        stop(proc)


# -- lookout-nb demo, for real: JupyterLab on the copies, stopped by Ctrl-C ----------------------------------------
def demo_env(tmp_path, **extra) -> dict:
    """The environment of a user's shell: no endpoint variables, Jupyter's own folders under ``tmp_path``."""
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           **extra}
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT", "MPLBACKEND"):
        env.pop(name, None)
    return env


def start_demo(command, cwd, env, timeout=180):
    """Start ``lookout-nb demo`` in ``cwd``; returns the process and its banner up to the JupyterLab line."""
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put(None)], daemon=True).start()
    text, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        text += line
        if line.startswith("JupyterLab:"):
            break
    return proc, text


def serving(text: str):
    """(JupyterLab base URL, token, endpoint URL) read from the demo's banner."""
    lab = re.search(r"JupyterLab:\s+(http://127\.0\.0\.1:\d+)/lab/tree/01_wizard\.ipynb\?token=(\w+)", text)
    endpoint = re.search(r"Embedded endpoint: (http://127\.0\.0\.1:\d+)", text)
    assert lab and endpoint, text
    return lab.group(1), lab.group(2), endpoint.group(1)


def assert_serves_the_copied_wizard(base, token, folder: Path):
    with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=30) as r:
        listed = {item["name"] for item in json.load(r)["content"]}
    assert set(NOTEBOOKS) <= listed, listed
    with urllib.request.urlopen(f"{base}/api/contents/01_wizard.ipynb?token={token}", timeout=30) as r:
        served = json.load(r)
    assert served["type"] == "notebook" and served["content"]["cells"][0]["source"].startswith("# 01")
    assert (folder / "01_wizard.ipynb").read_bytes() == (ROOT / "notebooks" / "01_wizard.ipynb").read_bytes()
    with urllib.request.urlopen(f"{base}/lab/tree/01_wizard.ipynb?token={token}", timeout=30) as r:
        assert r.status == 200 and b"<title>JupyterLab" in r.read()


def stop_demo(proc, base, token):
    """Ctrl-C: the demo exits 0 and JupyterLab stops answering."""
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)


def kill_group(proc):
    """After a failed test: the demo and the JupyterLab it started (its own session, so its own group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_demo_serves_jupyterlab_on_copies_of_the_notebooks_and_stops_on_ctrl_c(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    env = demo_env(tmp_path, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc, text = start_demo([sys.executable, "-m", "lookout_nb.cli", "demo", "--no-browser", "--port", "0"], user, env)
    try:
        base, token, endpoint = serving(text)
        assert f"Demo data:         {DEMO_DATA}" in text
        assert f"Notebooks:         {user / 'lookout-nb-notebooks'} (copied 01_wizard.ipynb" in text
        assert "copies you edit are never overwritten" in text
        assert_serves_the_copied_wizard(base, token, user / "lookout-nb-notebooks")
        request = urllib.request.Request(endpoint + "/", headers={
            "X-Amz-Target": "AWSLookoutEquipmentFrontendService.ListModels",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260105/us-east-1/lookoutequipment/aws4_request"},
            data=b"{}")
        with urllib.request.urlopen(request, timeout=30) as r:
            assert json.load(r)["ModelSummaries"][0]["ModelName"] == "pump-demo"
        stop_demo(proc, base, token)
    finally:
        kill_group(proc)
    assert sorted(p.name for p in (user / "lookout-nb-notebooks").glob("*.ipynb")) == NOTEBOOKS
    assert sorted(p.name for p in user.iterdir()) == ["lookout-nb-notebooks"]  # nothing else written there


def _can_build_wheels() -> bool:
    """pip can build this project's wheel offline: bdist_wheel from setuptools>=70.1 or the wheel package."""
    from importlib.metadata import version

    major, minor = (int(x) for x in version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _build_wheel(tmp_path) -> Path:
    """The wheel of a copy of this checkout (build/ and *.egg-info stay out of the worktree)."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv*", "artifacts", "lookout-nb-notebooks", "tests"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("lookout_nb-*.whl")
    return wheel


def _venv_with(wheel: Path, tmp_path) -> Path:
    """A fresh venv holding the wheel, that borrows the other packages (jupyterlab, ...) from this environment.

    The venv gets no pip and no system site-packages: a ``.pth`` lists this environment's site-packages folders,
    after the venv's own, so ``import lookout_nb`` finds the wheel and never an editable or PYTHONPATH copy.
    """
    import site
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    borrowed = [p for p in {*site.getsitepackages(), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
                if Path(p).is_dir()]
    (purelib / "_borrowed_site_packages.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", "--ignore-installed", str(wheel)], check=True, capture_output=True, timeout=300)
    return venv


def test_demo_runs_from_an_installed_wheel_in_an_empty_folder(tmp_path):
    if not _can_build_wheels():
        reason = "building the wheel offline needs setuptools>=70.1 or the wheel package (pip install wheel)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so this test must run", pytrace=False)
        pytest.skip(reason)
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zipped:
        names = set(zipped.namelist())
    assert {f"lookout_nb/notebooks/{n}" for n in NOTEBOOKS} <= names, sorted(names)
    assert not any(n.startswith("notebooks/") for n in names)  # no top-level 'notebooks' package in site-packages

    venv = _venv_with(wheel, tmp_path)
    env = demo_env(tmp_path)
    env.pop("PYTHONPATH", None)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import lookout_nb; print(lookout_nb.__file__)"],
                           cwd=empty, env=env, check=True, capture_output=True, text=True).stdout.strip()
    installed = Path(where).parent
    assert installed.is_relative_to(venv), f"the venv imports {where}, not the wheel"
    before = {n: hashlib.sha256((installed / "notebooks" / n).read_bytes()).hexdigest() for n in NOTEBOOKS}
    proc, text = start_demo([str(venv / "bin" / "lookout-nb"), "demo", "--no-browser", "--port", "0"], empty, env)
    try:
        base, token, _ = serving(text)
        assert f"Notebooks:         {empty / 'lookout-nb-notebooks'} (copied" in text
        assert_serves_the_copied_wizard(base, token, empty / "lookout-nb-notebooks")
        stop_demo(proc, base, token)
    finally:
        kill_group(proc)
    after = {n: hashlib.sha256((installed / "notebooks" / n).read_bytes()).hexdigest() for n in NOTEBOOKS}
    assert after == before  # the installed notebooks are never edited


def test_help_is_plain_text(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    assert "The lookout-nb command: the demo" in shown and "``" not in shown


def test_demo_on_a_taken_port_says_so_and_offers_port_0_before_starting_anything(tmp_path, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["demo", "--no-browser", "--port", str(port), "--notebooks", str(tmp_path / "nb")]) == 2
    err = capsys.readouterr().err
    assert f"port {port} is in use" in err and "--port 0" in err
