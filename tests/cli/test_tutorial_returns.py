"""The tutorial's "Starting from your published returns" section, run as written (issue 14).

The test reads the section of ``docs/tutorial.md`` and runs every command of its ``bash`` blocks, in
order, on an empty store: a line ``# TEXT`` after a command is text that command must print. Then it
opens every page the section links to (``uec serve`` is not started: the same app answers in-process)
and checks what the text says they show. So the section cannot rot: a renamed command, option,
file or page fails here.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import uec

REPO = Path(__file__).resolve().parents[2]
SRC = Path(uec.__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "web"))
TITLE = "## 5. Starting from your published returns"
PASSWORD = "a-tutorial-passphrase-1"


def section() -> str:
    text = (REPO / "docs" / "tutorial.md").read_text(encoding="utf-8")
    start = text.index(TITLE)
    end = text.index("\n## ", start + len(TITLE))
    return text[start:end]


def steps(text: str) -> list[tuple[str, list[str]]]:
    """Each command of the section's bash blocks (continuation lines joined) and the text it must print."""
    out: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith("# "):
                out[-1][1].append(line[2:])
            elif line:
                out.append((re.sub(r"\s+#\s.*$", "", line), []))
    return out


@pytest.mark.slow
def test_the_returns_tutorial_runs_as_written(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from web_fixture import signed_in

    from uec.web import create_app

    text = section()
    commands = steps(text)
    assert commands and commands[0][0].startswith("export UEC_STORE=")
    store = str(tmp_path / "returns.duckdb")
    # The tutorial runs from the repository's root: its files are tests/data/returns/...
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "data").symlink_to(REPO / "tests" / "data")
    env = {**os.environ, "PYTHONPATH": str(SRC), "UEC_STORE": store, "OPENBLAS_NUM_THREADS": "1", "COLUMNS": "200"}
    ran = []
    for command, expected in commands[1:]:
        if command == "uec serve":
            continue
        if command.startswith("uec "):
            args = shlex.split(command)[1:]
            stdin = None
            if args[:2] == ["users", "add"]:  # it asks for the password on a terminal; a test gives it on stdin
                args.append("--password-stdin")
                stdin = PASSWORD + "\n"
            run = subprocess.run([sys.executable, "-m", "uec", *args], cwd=tmp_path, env=env, input=stdin,
                                 capture_output=True, text=True, timeout=900, check=False)
        else:
            run = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                                 timeout=60, check=False)
        printed = run.stdout + run.stderr
        assert run.returncode == 0, f"{command}\n{printed[-3000:]}"
        for fragment in expected:
            assert fragment in printed, f"{command} did not print {fragment!r}:\n{printed[-3000:]}"
        ran.append(command.split()[:3])
    assert ["uec", "forecast", "refresh"] in ran and ["uec", "forecast", "backtest"] in ran

    pages = re.findall(r"<http://127\.0\.0\.1:8000(/[^>]*)>", text)
    assert "/standards/ed-4hr" in pages and "/forecasts/returns/month/ae_monthly/RRK/ae_attendances_all" in pages
    with TestClient(signed_in(create_app(store))) as client:
        for page in pages:
            assert client.get(page).status_code == 200, page
        spc = client.get("/standards/ed-4hr.json").json()
        assert len(spc["points"]) == 52 and spc["chart_svg"].startswith("<svg")
        summary = spc["chart_summary"]
        assert "52 months from Apr 2021 to Jul 2025" in summary and "target 78.0%" in summary
        assert "improving nature" in summary and "Consistently failing" in summary
        fc = client.get("/forecasts/returns/month/ae_monthly/RRK/ae_attendances_all.json").json()
        assert len(fc["history"]) == 36 and len(fc["forecast"]) == 12
        assert fc["forecast"][0]["ds"] == "2025-08-01" and fc["item"]["freq"] == "monthly"
        assert all(p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"] for p in fc["forecast"])
        # "each is forecast from its latest unbroken stretch, the 2022-23 winter"
        handover = client.get("/forecasts/returns/day/uec_sitrep/RRK/sitrep_handover_over_60.json").json()
        assert handover["forecast"][0]["ds"] == "2023-03-13" and handover["history"][0]["ds"] >= "2022-11-14"
