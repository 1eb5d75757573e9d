"""The layer contract of pyproject.toml names every module of the project package."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_MODULES = {"__init__.py", "__pycache__", "lib", "static", "templates"}


def test_every_project_module_sits_in_the_top_layer() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    top = {name.strip() for name in contract["layers"][0].split(":")}
    present = {
        f"closedloop.{path.stem}"
        for path in (ROOT / "closedloop").iterdir()
        if path.name not in NOT_MODULES and (path.suffix == ".py" or (path / "__init__.py").exists())
    }
    assert present == top
