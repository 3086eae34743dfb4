"""A throwaway PostgreSQL cluster for the tests (and the benchmark): initdb in a temp dir, ``postgres`` on a free
port of 127.0.0.1, stopped (by its PID) at the end. As root it runs as the ``postgres`` user (initdb refuses root).

>>> with Cluster.start() as pg:          # doctest: +SKIP
...     url = pg.database("t1")          # a new empty database
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def bindir() -> Path | None:
    """The folder of initdb and postgres (Debian's /usr/lib/postgresql/<v>/bin, or PATH), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing() -> str | None:
    """Why PostgreSQL cannot be started here (what to install), or None."""
    if bindir() is None:
        return "PostgreSQL is not installed (initdb not found): apt-get install postgresql (scripts/test.sh does)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg 3 is not installed: pip install 'lookout-nb[postgres]'"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: PostgreSQL cannot run as root"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One running PostgreSQL server (see the module docstring)."""

    def __init__(self, folder: Path, port: int, process: subprocess.Popen, prefix: list):
        self.folder, self.port, self.process, self.prefix = folder, port, process, prefix
        self._n = 0

    @classmethod
    def start(cls) -> Cluster:
        folder = Path(tempfile.mkdtemp(prefix="lookout-pg-"))
        prefix = []
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
            prefix = ["runuser", "-u", "postgres", "--"]
        bins = bindir()
        subprocess.run([*prefix, str(bins / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "postgres",
                        "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
        port = free_port()
        log = open(folder / "log", "wb")  # noqa: SIM115 - the server writes it until stop()
        process = subprocess.Popen([*prefix, str(bins / "postgres"), "-D", str(folder / "data"), "-k", str(folder),
                                    "-p", str(port), "-h", "127.0.0.1", "-c", "fsync=off", "-c",
                                    "max_connections=200"], stdout=log, stderr=subprocess.STDOUT)
        cluster = cls(folder, port, process, prefix)
        cluster._wait()
        return cluster

    def _wait(self) -> None:
        import psycopg

        for _ in range(300):
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None:
                    raise RuntimeError((self.folder / "log").read_text()) from None
                time.sleep(0.05)
        raise RuntimeError("PostgreSQL did not start: " + (self.folder / "log").read_text())

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self, name: str | None = None) -> str:
        """The URL of a new, empty database."""
        import psycopg

        self._n += 1
        name = name or f"t{self._n}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process.poll() is None:  # pg_ctl stops the server of this data directory only (its PID file)
            subprocess.run([*self.prefix, str(bindir() / "pg_ctl"), "-D", str(self.folder / "data"), "stop", "-m",
                            "fast", "-w"], capture_output=True, timeout=60)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
