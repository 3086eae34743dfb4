"""docs/endpoint.md, the one copy of the endpoint's behaviour spec, follows the code: it lists every operation the
protocol answers and every flag of ``lookout-nb serve``, and the README and the package docstring point to it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import lookout_nb.service
from lookout_nb.service.cli import add_serve_parser
from lookout_nb.service.http.protocol import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "endpoint.md"


def section(title: str) -> str:
    return SPEC.read_text(encoding="utf-8").split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_operation_the_protocol_answers_is_listed_and_no_other():
    listed = set(re.findall(r"\b[A-Z][A-Za-z]+\b", "".join(
        line.split("|")[2] for line in section("Operations").splitlines() if line.count("|") >= 3)))
    listed.discard("Operations")
    assert sorted(set(OPERATIONS) - listed) == [], "list these operations in docs/endpoint.md (Operations)"
    assert sorted(listed - set(OPERATIONS)) == [], "docs/endpoint.md lists operations the protocol does not answer"


def test_every_flag_of_serve_is_listed_and_no_other():
    commands = argparse.ArgumentParser().add_subparsers()
    add_serve_parser(commands)
    serve = commands.choices["serve"]
    flags = set(re.findall(r"--[a-z][a-z0-9-]*", serve.format_help())) - {"--help"}
    listed = set(re.findall(r"^\| `(--[a-z0-9-]+)`", section("`lookout-nb serve`"), re.M))
    assert sorted(flags - listed) == [], "list these flags in docs/endpoint.md (`lookout-nb serve`)"
    assert sorted(listed - flags) == [], "docs/endpoint.md lists flags lookout-nb serve does not take"


def test_the_readme_and_the_package_docstring_point_to_the_spec():
    assert "(docs/endpoint.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/endpoint.md" in lookout_nb.service.__doc__
    assert "Wake-ups and windows" not in (ROOT / "README.md").read_text(encoding="utf-8")  # one copy only
