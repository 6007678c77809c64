"""``uec standards`` is the command's name; ``uec kpi`` still works for one release, marked deprecated."""

from __future__ import annotations

import json
import subprocess
import sys


def uec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "uec", *args], capture_output=True, text=True, timeout=120)


def test_standards_is_the_command_and_kpi_an_alias() -> None:
    new = uec("standards", "--list", "--json")
    assert new.returncode == 0, new.stderr
    listed = json.loads(new.stdout.strip().splitlines()[-1])
    old = uec("kpi", "--list", "--json")
    assert old.returncode == 0, old.stderr
    assert json.loads(old.stdout.strip().splitlines()[-1]) == listed
    assert "deprecated" in old.stderr.lower() and "deprecated" not in new.stderr.lower()


def test_the_help_names_standards_not_kpi() -> None:
    r = uec("--help")
    assert r.returncode == 0
    assert "standards" in r.stdout and "kpi" not in r.stdout


def test_a_mistake_points_at_the_new_name() -> None:
    r = uec("standards", "ed-4hour")  # an unknown standard is caught before the store is opened
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
    assert "`uec standards --list`" in r.stderr
