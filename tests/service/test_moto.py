"""The moto the endpoint runs on is one it was tested with: its version is in the tested range and every name the
storage room takes from moto (many of them private) is still there. A moto upgrade fails here, saying what to do,
instead of breaking durability quietly."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from lookout_nb.service.storage.moto import motos3

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_moto_is_a_tested_version():
    installed = Version(importlib.metadata.version("moto"))
    assert installed in SpecifierSet(motos3.TESTED), (
        f"moto {installed} is not a version lookout_nb was tested with ({motos3.TESTED}): install one of those, or "
        "run tests/service against it and, when they pass, widen TESTED in lookout_nb/service/storage/moto/motos3.py "
        "and the moto pin of pyproject.toml and binder/requirements.txt")


def test_the_tested_range_is_the_pin_of_every_requirement_file():
    for path in (ROOT / "pyproject.toml", ROOT / "binder" / "requirements.txt"):
        pins = re.findall(r"moto\[s3,server\]([^\"\s]*)", path.read_text())
        assert pins == [motos3.TESTED], f"{path.name} pins moto {pins}; motos3.TESTED says {motos3.TESTED}"


def test_every_moto_name_the_storage_room_relies_on_exists():
    assert motos3.missing() == [], (
        f"moto {importlib.metadata.version('moto')} lacks {motos3.missing()}, which "
        "lookout_nb/service/storage/moto/ relies on: adapt that package (the one that touches moto) to it")


def test_a_missing_moto_name_is_named(monkeypatch):
    monkeypatch.setattr(motos3, "RELIED_ON", (*motos3.RELIED_ON, "moto.s3.models:FakeKey.no_such_attribute",
                                              "moto.no_such_module:x"))
    assert motos3.missing() == ["moto.s3.models:FakeKey.no_such_attribute", "moto.no_such_module:x"]
