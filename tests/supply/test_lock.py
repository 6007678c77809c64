"""The lock files scripts/setup installs from (issue 11 item 8): current, complete and hashed."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
LOCKS = ("runtime", "test", "build")


def pins(text: str) -> dict[str, str]:
    """Package name -> pinned version, for every requirement line of a lock file."""
    found = {}
    for line in text.splitlines():
        if m := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^ ;\\]+)", line):
            found[re.sub(r"[-_.]+", "-", m[1]).lower()] = m[3]
    return found


@pytest.mark.parametrize("name", LOCKS)
def test_lock_matches_pyproject(name: str) -> None:
    stamp = subprocess.run([str(ROOT / "scripts" / "lock-stamp")], capture_output=True, text=True, check=True,
                           cwd=ROOT).stdout.strip()
    text = (ROOT / "requirements" / f"{name}.txt").read_text(encoding="utf-8")
    assert f"# dependencies-sha256: {stamp}" in text, "dependencies changed: run scripts/lock, commit requirements/"


@pytest.mark.parametrize("name", LOCKS)
def test_every_pin_has_hashes(name: str) -> None:
    text = (ROOT / "requirements" / f"{name}.txt").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert entries
    for entry in entries:
        if entry.strip():
            assert "==" in entry and "--hash=sha256:" in entry, entry[:200]


def test_every_declared_dependency_is_locked() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = pins((ROOT / "requirements" / "runtime.txt").read_text(encoding="utf-8"))
    test = pins((ROOT / "requirements" / "test.txt").read_text(encoding="utf-8"))

    def name(req: str) -> str:
        return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0]).lower()

    assert {name(r) for r in project["dependencies"]} <= set(runtime)
    assert {name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]} <= set(test)
    # The test set installs the app's versions, so a venv set up for the tests serves the app.
    assert all(test[k] == v for k, v in runtime.items() if k in test)
