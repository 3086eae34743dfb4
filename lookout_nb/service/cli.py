"""``lookout-nb serve``: run the embedded endpoint in the foreground and say how to point clients at it.

The lead wires :func:`add_serve_parser` / :func:`serve` into ``lookout_nb.cli``; ``python -m lookout_nb.service.cli``
runs the same command on its own.

    $ lookout-nb serve --port 4566 --clock real --speed 60 --demo --state-dir ~/.lookout-nb
    Lookout for Equipment + S3 endpoint: http://127.0.0.1:4566
    export AWS_ENDPOINT_URL=http://127.0.0.1:4566
    ...
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import signal
import sys
import threading


def add_serve_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``serve`` sub-command to an argparse ``subparsers`` object; returns its parser."""
    p = subparsers.add_parser(
        "serve",
        help="run the embedded Lookout for Equipment + S3 endpoint",
        description="Serve the Lookout for Equipment API and S3 on one local port, with a runner that executes "
        "scheduled inference on a real, sped-up or manual clock.",
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free port)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only); any "
                   "other address needs --credentials (or --insecure)")
    p.add_argument("--clock", choices=("real", "manual"), default="real", help="real time (default) or manual")
    p.add_argument("--speed", type=float, default=None, help="speed factor of the real clock, e.g. 60")
    p.add_argument("--demo", action="store_true", help="seed the demo model and keep feeding demo input files")
    p.add_argument(
        "--state-dir", default=None,
        help="keep models, schedulers, executions, the clock and S3 objects here (one endpoint per directory)",
    )
    p.add_argument("--db", default=None, metavar="postgresql://USER@HOST:PORT/DATABASE",
                   help="keep the state in PostgreSQL instead of --state-dir's SQLite: every serve process on one "
                        "database (and one S3) is one service (needs lookout-nb[postgres])")
    p.add_argument("--dask-scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="execute scheduled runs and model trainings as tasks of this Dask cluster (needs "
                        "lookout-nb[dask]; default: in this process)")
    p.add_argument(
        "--s3-endpoint-url", default=None, metavar="URL",
        help="keep every object (input files, training data, labels, results) in this S3 instead of the endpoint's "
        "own, read and written through boto3 with your usual credential chain and settings; 'aws' means AWS S3 "
        "itself (default: $LOOKOUT_NB_S3_ENDPOINT_URL when set). The endpoint then serves the Lookout API only",
    )
    p.add_argument("--retention", default=None, metavar="DURATION",
                   help="stop listing ended executions whose data ended longer ago than this (service time, e.g. 30D "
                        "or P30D) and delete them from the state as runs end, one DELETE on an index (default: keep "
                        "every execution; they are kept in the state database, not in memory)")
    add_credentials_argument(p)
    p.add_argument("--cors-origin", action="append", default=None, metavar="ORIGIN",
                   help="let web pages of this origin call the endpoint (CORS), e.g. http://localhost:8888; "
                        "repeat for several (default: no web page may)")
    p.add_argument("--insecure", action="store_true",
                   help="allow a non-loopback --host without --credentials (anyone who reaches the port can do "
                        "anything)")
    p.set_defaults(func=serve)
    return p


def add_fsck_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``fsck`` sub-command (list the damaged S3 object files of a state directory); returns its parser."""
    p = subparsers.add_parser("fsck", help="list the S3 objects of a --state-dir whose file is missing or damaged",
                              description="Check every S3 object file of a state directory (read-only; an endpoint "
                              "may be serving it). Exit status 1 when one is damaged.")
    p.add_argument("--state-dir", required=True, help="the state directory of lookout-nb serve")
    p.set_defaults(func=fsck)
    return p


def fsck(args) -> int:
    """Print the report of :func:`.storage.fsck.check`; 0 when every file is whole, 1 otherwise, 2 if unreadable."""
    import sqlite3

    from .storage.fsck import check, report

    try:
        problems = check(args.state_dir)
    except sqlite3.Error as err:
        print(f"lookout-nb fsck: cannot read the object index of {args.state_dir}: {err}", file=sys.stderr)
        return 2
    print(report(problems, args.state_dir))
    return 1 if problems else 0


def add_credentials_argument(parser) -> None:
    """``--credentials ACCESS_KEY:SECRET_KEY`` (default: the LOOKOUT_NB_CREDENTIALS environment variable)."""
    from .http.auth import ENV

    parser.add_argument(
        "--credentials", default=None, metavar="ACCESS_KEY:SECRET_KEY",
        help=f"require every request to be SigV4-signed with this key and secret (default: ${ENV} when set; "
        "prefer the variable: a command line is visible to other users of the machine)",
    )


def credentials_option(args, command: str = "serve"):
    """The ``(key, secret)`` of ``--credentials`` or of the environment variable, or None; InvalidArgument if bad."""
    from .http.auth import ENV, parse_credentials

    if getattr(args, "credentials", None):
        return parse_credentials(args.credentials, "--credentials")
    if os.environ.get(ENV):
        return parse_credentials(os.environ[ENV], ENV)
    return None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: addresses only this machine reaches.

    >>> [is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "localhost", "0.0.0.0", "", "192.168.1.5")]
    [True, True, True, True, False, False, False]
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name (or empty: every interface) may be reached from elsewhere


def banner(endpoint) -> str:
    """What ``serve`` prints: the URL and the environment variables to export."""
    server = endpoint.server
    reach = "this machine only" if is_loopback(server.host) else "other machines use this machine's address"
    first = f"Lookout for Equipment + S3 endpoint: {endpoint.url}  (listening on {server.bound}: {reach}; "
    lines = [first + f"clock: {endpoint.clock!r})"]
    if getattr(endpoint, "credentials", None):
        lines.append("# every request must be SigV4-signed with the --credentials key and secret (the secret is "
                     "not printed)")
    for name, value in endpoint.env().items():
        if name == "AWS_SECRET_ACCESS_KEY" and getattr(endpoint, "credentials", None):
            lines.append(f"# export {name}=... (the secret of --credentials, not printed)")
        else:
            lines.append(f"export {name}={value}")
    if endpoint.clock.kind == "manual":
        lines.append(
            f"# manual clock at {endpoint.clock.now():%Y-%m-%dT%H:%M:%SZ}: move it with "
            f"lookout_nb.service.RemoteClock({endpoint.url!r}).advance('PT10M') "
            f"or POST {{\"advance\": \"PT10M\"}} to {endpoint.url}/_lookout-nb/clock"
            + (" (SigV4-signed)" if getattr(endpoint, "credentials", None) else "")
        )
    if endpoint.demo:
        from .demo.demo import describe as describe_demo

        lines.append(f"# demo {describe_demo()}")
    if getattr(endpoint, "s3_endpoint_url", None) is not None:
        from .storage.externals3 import describe as describe_s3

        lines.append(f"# objects: in your S3 at {describe_s3(endpoint.s3_endpoint_url)} (this endpoint serves no S3)")
    for problem in getattr(endpoint, "problems", []):
        lines.append(f"# not restored from the state: {problem}")
    lines.append("# press Ctrl-C to stop")
    return "\n".join(lines)


def option_problem(args, credentials=None) -> str | None:
    """What is wrong with the options of ``serve`` (one line), or None.

    >>> option_problem(argparse.Namespace(clock="real", speed=float("nan"), port=0))
    '--speed nan is not a speed: pass a finite number above 0, e.g. --speed 60'
    """
    host = getattr(args, "host", "127.0.0.1")
    if not is_loopback(host) and credentials is None and not getattr(args, "insecure", False):
        return (f"--host {host or '(every interface)'} is reachable from other machines: pass --credentials "
                f"ACCESS_KEY:SECRET_KEY (or set LOOKOUT_NB_CREDENTIALS), or --insecure to serve anyone")
    if args.speed is not None and not (math.isfinite(args.speed) and args.speed > 0):
        return f"--speed {args.speed:g} is not a speed: pass a finite number above 0, e.g. --speed 60"
    if args.clock == "manual" and args.speed not in (None, 1, 1.0):
        return "--speed applies to --clock real only"
    db = getattr(args, "db", None)
    if db is not None and not db.startswith(("postgresql://", "postgres://")):
        return f"--db {db} is not a PostgreSQL URL: pass postgresql://USER@HOST:PORT/DATABASE"
    dask = getattr(args, "dask_scheduler", None)
    if dask is not None and "://" not in dask:
        return f"--dask-scheduler {dask} is not a scheduler address: pass tcp://HOST:PORT"
    if not 0 <= args.port <= 65535:
        return f"--port {args.port} is not a TCP port: pass 0 (any free port) to 65535"
    return None


def serve(args, stop_event: threading.Event | None = None) -> int:
    """Run the endpoint until Ctrl-C / SIGTERM (or ``stop_event`` is set); returns the exit status."""
    from ..errors import LookoutNbError
    from . import start

    try:
        credentials = credentials_option(args)
    except LookoutNbError as err:
        print(f"lookout-nb serve: {err}", file=sys.stderr)
        return 2
    problem = option_problem(args, credentials)
    if problem:
        print(f"lookout-nb serve: {problem}", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and credentials is None:
        print(f"lookout-nb serve: warning: --insecure: {args.host or 'every interface'} serves anyone who reaches "
              "the port, with no credentials", file=sys.stderr, flush=True)
    stop_event = stop_event or threading.Event()
    from .storage.diskbody import bound_heap

    bound_heap()  # a long-running server: request bodies go back to the system once freed
    try:
        endpoint = start(
            port=args.port, host=args.host, clock=args.clock, speed=args.speed, demo=args.demo,
            state_dir=args.state_dir,
            credentials=credentials, cors_origin=getattr(args, "cors_origin", None),
            s3_endpoint_url=getattr(args, "s3_endpoint_url", None),
            db=getattr(args, "db", None), dask_scheduler=getattr(args, "dask_scheduler", None),
            retention=getattr(args, "retention", None),
        )
    except LookoutNbError as err:  # an unusable --state-dir or state file: one line, not a traceback
        print(f"lookout-nb serve: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # the Dask scheduler cannot be reached
        print(f"lookout-nb serve: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the address cannot be bound (in use, not this machine's)
        print(f"lookout-nb serve: cannot listen on {args.host}:{args.port}: {err.strerror or err}", file=sys.stderr)
        return 2
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop_event.set())
    try:
        print(banner(endpoint), flush=True)
        while not stop_event.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        endpoint.stop()
    return 0


def main(argv=None) -> int:
    """``python -m lookout_nb.service.cli serve ...``."""
    parser = argparse.ArgumentParser(prog="lookout-nb")
    commands = parser.add_subparsers(dest="command", required=True)
    add_serve_parser(commands)
    add_fsck_parser(commands)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
