"""The public API of :mod:`uec.system` and the layering around it."""

from __future__ import annotations

import subprocess
import sys

import uec.system


def test_every_public_name_loads_from_the_package() -> None:
    assert sorted(uec.system._WHERE) == sorted(uec.system.__all__)
    for name in uec.system.__all__:
        assert getattr(uec.system, name) is not None


def test_importing_the_package_does_not_load_the_engine_or_the_demo() -> None:
    # The CLI imports uec.system to offer `uec simulate`; that must stay cheap, and the model
    # must never need the demo that is built on top of it.
    code = ("import sys, uec.system; "
            "print(sorted(m for m in sys.modules if m.startswith(('uec.simulate', 'uec.demo'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_building_the_model_does_not_import_the_demo() -> None:
    code = ("import sys; from uec.system import build_model, demo_params; build_model(demo_params(), days=1); "
            "print([m for m in sys.modules if m.startswith('uec.demo')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
