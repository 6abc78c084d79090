"""The version is written once (``cfvariants.__version__``): the installed package's metadata, the CLI's
``--version`` and the API client's User-Agent all say the same."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from cli_helpers import invoke

import cfvariants
from cfvariants.client._base import USER_AGENT

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_package_metadata_and_the_cli_agree_with_the_module() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+(\w+\d*)?", cfvariants.__version__)
    assert importlib.metadata.version("cfvariants") == cfvariants.__version__
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.output == f"cfvariants, version {cfvariants.__version__}\n"
    assert USER_AGENT.startswith(f"cfvariants/{cfvariants.__version__} ")


def test_pyproject_takes_the_version_from_the_module() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cfvariants.__version__"}
