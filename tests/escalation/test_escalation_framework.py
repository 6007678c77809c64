"""The framework file, local overrides, the generated reference page and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from escalation_fixtures import AT, events, reference, returns

from uec.escalation import FrameworkError, load_framework, reference_markdown, status
from uec.escalation.reference import REGENERATE
from uec.store import Store

ROOT = Path(__file__).resolve().parents[2]
UEC = [sys.executable, "-m", "uec"]


def uec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UEC, *args], capture_output=True, text=True, timeout=300)


def test_national_framework_is_dated_cited_and_marks_unverified_numbers() -> None:
    fw = load_framework()
    assert fw.source.publisher == "NHS England" and fw.source.url and fw.effective_to is not None
    assert set(fw.provider_types) == {"acute", "community", "mental_health", "nhs111"}
    acute = [p.id for p in fw.provider_types["acute"].parameters]
    assert len(acute) == 9 and "acute-majors-resus-occupancy" in acute
    # Nothing was read from the published tables, so nothing may claim to be verified.
    assert not any(p.verified for p in fw.parameters()) and all(p.reasoning for p in fw.parameters())
    assert not any(b.verified for b in fw.levels)
    missing = [p.id for p in fw.parameters() if p.events.missing]
    assert missing == ["mh-ed-waits-12hr", "nhs111-clinical-callback-queue"]


LOCAL = """\
extends: opel-2024-26
id: demoshire-local
version: "2025.1"
aggregation:
  ics: {method: max, verified: true, reasoning: "Our board takes the worst pillar."}
provider_types:
  acute:
    parameters:
      - id: acute-4hr
        thresholds: {2: 0.95, 3: 0.90, 4: 0.40}
        weight: 2
"""


def test_local_framework_overrides_by_parameter_id(tmp_path: Path, store: Store) -> None:
    """A local file changes acute-4hr and the ICS method only; the rest is national.

    With A1's 4 hours at 60% now OPEL 3 (at or below 90%, above 40%) weighing 2: A1 earns
    17 - 3 + 2 x 2 = 18 of 24 - 3 + 6 = 27 -> 66.7 (OPEL 3). A2's 65% return is OPEL 3 too, weight 2:
    4 of 15 -> 26.7. A3's 75% return is OPEL 3 as well: 13 - 1 + 4 = 16 of 27 - 3 + 6 = 30 -> 53.3.
    Acute pillar (66.7 + 26.7 + 53.3) / 3 = 48.9; ICS = max(48.9, 33.3, 44.4) = 48.9 -> OPEL 2.
    """
    path = tmp_path / "local.yaml"
    path.write_text(LOCAL)
    fw = load_framework(path)
    assert (fw.id, fw.extends, fw.local) == ("demoshire-local", "opel-2024-26", ("local.yaml",))
    p = fw.parameter("acute-4hr")
    assert (p.weight, p.thresholds[3], p.title) == (2, 0.90, "All-type 4-hour performance since midnight")
    assert fw.parameter("acute-ga-occupancy").thresholds[2] == 0.92
    reference(store)
    events(store)
    returns(store)
    s = status(store, AT, framework=fw)
    org = {o.code: o.score for o in s.organisations}
    assert (org["A1"], org["A2"], org["A3"]) == (66.7, 26.7, 53.3)
    assert (s.ics.score, s.ics.level, s.ics.note) == (48.9, 2, "max of 3 pillars")


@pytest.mark.parametrize(("text", "message"), [
    ("id: x\nversion: '1'\nprovider_types: {acute: {parameters: [{id: acute-4hr, colour: red}]}}\n",
     "colour: Extra inputs are not permitted"),
    ("id: x\nversion: '1'\nprovider_types: {acute: {parameters: [{id: acute-4hr, "
     "thresholds: {2: 0.5, 3: 0.7, 4: 0.8}}]}}\n",
     "thresholds must get worse"),
    ("id: x\nversion: '1'\nprovider_types: {acute: {parameters: [{id: new-one, weight: 1}]}}\n", "Field required"),
    ("version: '1'\n", "must give its own 'id'"),
    ("extends: opel-1999\nid: x\nversion: '1'\n", "unknown framework 'opel-1999'"),
    ("id: [x\n", "not valid YAML"),
])
def test_bad_local_frameworks_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(FrameworkError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_framework(path)


def test_committed_reference_page_is_current() -> None:
    committed = (ROOT / "docs" / "reference" / "escalation.md").read_text(encoding="utf-8")
    assert committed == reference_markdown(), f"docs/reference/escalation.md is stale: run {REGENERATE}"


def test_cli_status_and_history(store_url: str) -> None:
    from uec.store import open_store

    s = open_store(store_url)
    reference(s)
    events(s)
    returns(s)
    r = uec("escalation", "status", "--at", "2024-07-10T14:00", "--store", store_url, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert (out["ics"]["code"], out["ics"]["score"], out["ics"]["level"]) == ("ICB", 41.0, 2)
    a1 = next(o for o in out["organisations"] if o["code"] == "A1")
    assert a1["level"] == 3 and a1["why"].startswith("score 70.8")
    h = uec("escalation", "history", "--from", "2024-07-09", "--to", "2024-07-11", "--time", "14:00",
            "--store", store_url, "--json")
    assert h.returncode == 0, h.stderr
    rows = json.loads(h.stdout.strip().splitlines()[-1])["rows"]
    assert len([r for r in rows if r["code"] == "A1"]) == 2
    assert next(r for r in rows if r["code"] == "A1" and r["at"].startswith("2024-07-10"))["score"] == 70.8
    text = uec("escalation", "history", "--from", "2024-07-10", "--to", "2024-07-11", "--every", "15min",
               "--org", "A1", "--store", store_url)
    assert text.returncode == 0, text.stderr
    line = next(ln for ln in text.stdout.splitlines() if ln.startswith("2024-07-10 14:00"))
    header = next(ln for ln in text.stdout.splitlines() if ln.startswith("at "))
    assert header.split()[1:] == ["ICB", "acute", "community", "mental_health", "nhs111", "A1", "H1"]
    assert line.split("  ")[-1].strip() == "3 (71)"  # H1 at 14:00: 70.8, OPEL 3


def test_cli_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    from uec.store import open_store

    store_url = str(tmp_path / "uec.duckdb")
    reference(open_store(store_url))
    for args, message in [
        (("status", "--at", "tomorrow"), "error: --at 'tomorrow' is not an instant"),
        (("status", "--at", "2024-10-27T01:30"), "repeated by a clock change"),
        (("status", "--at", "2024-07-10T14:00", "--org", "NOPE"), "error: unknown organisation 'NOPE'"),
        (("history", "--from", "2024-07-09", "--to", "2024-07-11", "--every", "hourly"), "--every must be 15min or 1d"),
        (("history", "--from", "2024-07-01", "--to", "2024-07-30", "--every", "15min"), "at most 7 days"),
        (("history", "--from", "2024-07-11", "--to", "2024-07-09"), "must be after"),
        (("status", "--framework", str(tmp_path / "none.yaml")), "not found"),
    ]:
        bad = uec("escalation", *args, "--store", store_url)
        assert bad.returncode == 2, (args, bad.stderr)
        lines = bad.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], (args, bad.stderr)


def test_docs_escalation_command_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "escalation.md"
    r = uec("docs", "escalation", "--output", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text(encoding="utf-8") == reference_markdown()


def test_season_summary_shares(store: Store) -> None:
    """Two July days at 14:00 fall in summer; the ICS is OPEL 2 on the 10th (see the spec); every row's
    shares of levels (and of no score) add up to 1."""
    import datetime as dt

    from uec.escalation import history
    from uec.escalation.cli import season_summary

    reference(store)
    events(store)
    returns(store)

    rows = season_summary(history(store, dt.date(2024, 7, 9), dt.date(2024, 7, 11), "1d", time_of_day=dt.time(14)))
    ics = next(r for r in rows if r["kind"] == "ics")
    assert (ics["season"], ics["code"], ics["days"]) == ("summer", "ICB", 2)
    assert ics["OPEL 2"] >= 0.5
    for r in rows:
        assert sum(r[k] for k in ("OPEL 1", "OPEL 2", "OPEL 3", "OPEL 4", "-")) == pytest.approx(1, abs=0.002)
