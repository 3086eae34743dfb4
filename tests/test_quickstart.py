"""The README's Quickstart runs as written, top to bottom, well under a minute (a new user's first minutes)."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quickstart_code() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart in Python", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_quickstart_runs_as_written(tmp_path):
    script = tmp_path / "quickstart.py"
    checks = textwrap.dedent("""
        runs = lnb.executions("pump-5min")
        assert len(runs) == 6 and set(runs["status"]) == {"SUCCESS"}, runs
        print("QUICKSTART-OK", lnb.describe("pump-5min").status)
    """)
    script.write_text(quickstart_code() + checks, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "QUICKSTART-OK RUNNING" in done.stdout
