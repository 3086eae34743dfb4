"""The ``lookout-nb`` command: the demo (endpoint and JupyterLab), the endpoint alone, and request checks.

- ``lookout-nb demo``: the embedded endpoint with the demo machine on a sped-up clock, and JupyterLab on the
  wizard notebook, its kernels pointed at the endpoint. The notebooks are copies in a folder you own
  (``./lookout-nb-notebooks`` unless ``--notebooks DIR``), never overwritten once you edit them. Ctrl-C, SIGTERM
  or SIGHUP stops everything; ``--state-dir DIR`` keeps models and schedulers across restarts.
- ``lookout-nb serve``: the embedded endpoint alone (see ``lookout-nb serve --help``).
- ``lookout-nb check REQUEST.json``: every problem of a saved request, exit status 1 when there is one.

>>> import json, pathlib, tempfile
>>> saved = pathlib.Path(tempfile.mkdtemp()) / "request.json"
>>> _ = saved.write_text(json.dumps({"DataUploadFrequency": "PT2M"}))
>>> main(["check", str(saved)])  # doctest: +ELLIPSIS
/.../request.json: ModelName: is required
...
/.../request.json: DataUploadFrequency: must be one of PT5M, PT10M, PT15M, PT30M, PT1H (got 'PT2M')
1
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ._children import StopRequested, stop_signals_raise, stop_tree
from .errors import LookoutNbError
from .notebook_copies import DEFAULT_FOLDER, WIZARD_NOTEBOOK, copy_notebooks
from .service.cli import add_credentials_argument, add_fsck_parser, add_serve_parser, credentials_option


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="lookout-nb", description=_plain(__doc__.split("\n\n")[0]))
    commands = parser.add_subparsers(dest="command", required=True)
    add_serve_parser(commands)
    add_fsck_parser(commands)

    demo = commands.add_parser("demo", help="endpoint, demo data and JupyterLab on the wizard notebook")
    demo.add_argument("--port", type=int, default=8888, help="JupyterLab's port (default 8888; 0 picks a free one)")
    demo.add_argument("--endpoint-port", type=int, default=0, help="the endpoint's port (default: a free one)")
    demo.add_argument("--speed", type=float, default=60.0,
                      help="clock speed over real time (default 60: an hour a minute)")
    demo.add_argument("--no-browser", action="store_true", help="print the URL without opening a browser")
    demo.add_argument("--notebooks", type=Path, default=DEFAULT_FOLDER, metavar="DIR",
                      help=f"copy the notebooks into DIR and serve them from there (default: ./{DEFAULT_FOLDER}); "
                      "copies you edited are kept, never overwritten")
    demo.add_argument("--state-dir", default=None, metavar="DIR",
                      help="keep models (those you train too), schedulers, executions, the clock and S3 objects in "
                      "DIR across restarts (default: nothing kept)")
    add_credentials_argument(demo)
    demo.set_defaults(func=run_demo)

    check = commands.add_parser("check", help="list every problem of a request saved as JSON")
    check.add_argument("request", type=Path, help="a JSON file of CreateInferenceScheduler members")
    check.add_argument("--sampling-rate", default=None, choices=_sampling_rates(), metavar="RATE",
                       help="the model's TargetSamplingRate (PT1S ... PT1H), e.g. PT5M")
    check.set_defaults(func=run_check)

    args = parser.parse_args(argv)
    return args.func(args)


def _plain(text: str) -> str:
    """Docstring text for a terminal: reStructuredText's literal quotes dropped.

    >>> _plain("The ``lookout-nb`` command.")
    'The lookout-nb command.'
    """
    return text.replace("``", "")


def _sampling_rates() -> tuple[str, ...]:
    from .contract import servicemodel

    return servicemodel.enum("TargetSamplingRate")


#: The largest request file ``check`` reads: a CreateInferenceScheduler request is a few kB (with 200 tags of
#: the longest kind, under 300 kB).
CHECK_MAX_BYTES = 1024 * 1024


def read_request_file(path: Path, limit: int = CHECK_MAX_BYTES) -> str:
    """The text of a request file: a regular file of at most ``limit`` bytes, else ValueError saying why.

    Opened without blocking and checked before reading, so a FIFO, a device such as ``/dev/zero`` or a directory
    is refused at once instead of read forever.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a device, pipe or socket"
            raise ValueError(f"it is {kind}, not a regular file; pass the JSON file of a request")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"it is larger than {limit:,} bytes; a request file is a few kB of JSON")
    return data.decode("utf-8")


def run_check(args) -> int:
    """Print the problems of a saved request; 0 when it is valid, 1 when not, 2 when the file is unreadable."""
    from .contract.request import SchedulerRequest

    try:
        request = SchedulerRequest.from_json(read_request_file(args.request))
    except (OSError, ValueError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else err
        print(f"lookout-nb check: cannot read {args.request}: {why}", file=sys.stderr)
        return 2
    except RecursionError:
        print(f"lookout-nb check: cannot read {args.request}: its JSON is nested too deeply to be a request",
              file=sys.stderr)
        return 2
    problems = request.problems(target_sampling_rate=args.sampling_rate)
    for p in problems:
        print(f"{args.request}: {p.field}: {p.message}")
    if not problems:
        print(f"{args.request}: valid")
    return 1 if problems else 0


def run_demo(args) -> int:
    """Start the endpoint and JupyterLab; block until a stop signal (or JupyterLab exits), then stop both.

    Ctrl-C, SIGTERM (a plain ``kill``, a supervisor, ``timeout``) and SIGHUP all stop JupyterLab, its kernels and
    the endpoint. JupyterLab runs in a session of its own with no terminal, so Ctrl-C reaches this process alone
    and JupyterLab's own "Shut down this Jupyter server (y/[n])?" never shows.
    """
    from .service import start

    try:
        credentials = credentials_option(args, "demo")  # before anything is copied or started
        copies = copy_notebooks(args.notebooks)
    except LookoutNbError as err:
        print(f"lookout-nb demo: {err}", file=sys.stderr)
        return 2
    port = args.port or _free_port()
    if not _port_free(port):
        print(f"lookout-nb demo: port {port} is in use (another JupyterLab?); pass --port 0 for a free one, or "
              "--port N", file=sys.stderr)
        return 2
    lab = endpoint = None
    with stop_signals_raise():
        try:
            endpoint = start(port=args.endpoint_port, clock="real", speed=args.speed, demo=True,
                             credentials=credentials, state_dir=args.state_dir)
            lab = _start_lab(args, port, copies, endpoint, credentials)
            lab.wait()
        except StopRequested:
            pass
        except LookoutNbError as err:  # an unusable --state-dir, or one another endpoint holds
            print(f"lookout-nb demo: {err}", file=sys.stderr)
            return 2
        finally:
            if lab is not None:
                stop_tree(lab)
            if endpoint is not None:
                endpoint.stop()
    if lab is not None and lab.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL):
        print(f"lookout-nb demo: JupyterLab exited with status {lab.returncode} (see its messages above; if its "
              "port was taken meanwhile, --port 0 picks a free one)", file=sys.stderr)
        return 1
    return 0


def _start_lab(args, port: int, copies, endpoint, credentials) -> subprocess.Popen:
    """JupyterLab on the copies' folder, in a session of its own, its kernels pointed at ``endpoint``; the banner
    is printed once it answers."""
    from .service.demo import describe

    token = secrets.token_hex(16)
    folder = copies.folder
    env = {**os.environ, **endpoint.env()}  # the kernels sign with the endpoint's credentials, if it has some
    command = [
        sys.executable, "-m", "jupyterlab", f"--port={port}", "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
        "--ServerApp.open_browser=" + ("False" if args.no_browser else "True"), WIZARD_NOTEBOOK,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines run as root; JupyterLab refuses it otherwise
    lab = subprocess.Popen(command, env=env, cwd=folder, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/lab/tree/{WIZARD_NOTEBOOK}?token={token}"
    if _wait_for(f"http://127.0.0.1:{port}/api/status?token={token}", lab):
        guarded = ", SigV4 signatures required" if credentials else ""
        kept = f"; state kept in {args.state_dir}" if args.state_dir else ""
        print(f"\nEmbedded endpoint: {endpoint.url} (clock x{args.speed:g}{guarded}{kept})")
        print(f"Demo data:         {describe()}")
        print(f"Notebooks:         {folder} ({copies.summary()}; copies you edit are never overwritten)")
        print(f"JupyterLab:        {url}\nPress Ctrl-C to stop both.\n", flush=True)
    return lab


def _port_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:``port`` (JupyterLab's own error on a taken port offers no way out)."""
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 120.0) -> bool:
    """True once ``url`` answers; False if ``process`` exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.5)
    return False


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    raise SystemExit(main())
