"""The examples in the core modules' docstrings run as written."""

import doctest
import importlib

import pytest

CORE = ["lookout_nb", "lookout_nb.errors", "lookout_nb.servicemodel", "lookout_nb.naming", "lookout_nb.request",
        "lookout_nb.schema"]


@pytest.mark.parametrize("name", CORE)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_import_loads_no_widgets_plotting_or_aws_client():
    import subprocess
    import sys

    code = ("import sys, lookout_nb; heavy = [m for m in ('matplotlib', 'ipywidgets', 'boto3', 'botocore') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
