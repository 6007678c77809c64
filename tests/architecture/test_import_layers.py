"""The layering of docs/ARCHITECTURE.md holds: the import-linter contracts in pyproject.toml are kept.

scripts/test runs ``lint-imports`` too; this test makes the same check part of any pytest run, and
proves the contracts would catch an arrow from a lower layer to a higher one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from importlinter import configuration
from importlinter.application.use_cases import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept() -> None:
    configuration.configure()  # what the lint-imports command does before it lints
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)


def test_the_contracts_name_the_layers_the_architecture_names() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {c["id"]: c for c in config["contracts"]}
    layers = contracts["layers"]["layers"]
    # Top to bottom: a layer may import only what is below it.
    order = [next(i for i, layer in enumerate(layers) if name in layer)
             for name in ("web", "demo", "jobs", "system", "standards", "simulate", "store", "contract")]
    assert order == sorted(order)
    assert {"uec.system", "uec.ics", "uec.demo"} <= set(contracts["engine"]["forbidden_modules"])
    assert contracts["demo"]["forbidden_modules"] == ["uec.demo"]
