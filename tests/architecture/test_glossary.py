"""Names come from the glossary: every domain noun a page or a command uses has an entry.

Two checks. Every noun in :data:`DOMAIN_NOUNS` (the things the product talks about) has a glossary
entry. And every word of every page heading, table header and form label, and of every CLI
command and option name, is either a glossary word or one of :data:`PLAIN_WORDS` (ordinary English
and units); a new noun on a page or in a command fails here until it is added to docs/GLOSSARY.md
(or, if it is plain English, to :data:`PLAIN_WORDS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from uec.cli import app

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "src" / "uec" / "web" / "templates"

#: The nouns the UI and CLI use for the things the product is about.
DOMAIN_NOUNS = [
    # the system and its data
    "ICS", "organisation", "site", "service", "attendance", "incident", "handover", "spell", "bed state",
    "criteria to reside", "discharge pathway", "return", "event contract", "table", "store", "load", "quarantine",
    "ingest kind", "export", "reference data", "demo ICS", "seed", "generator", "instant",
    # standards
    "standard", "target", "catalogue", "period", "level", "breakdown", "source", "numerator", "denominator",
    "statistical disclosure control", "SPC chart", "process limits", "special cause", "variation icon",
    "assurance icon", "rebase", "overview",
    # forecasting
    "series", "forecast", "forecast run", "forecasting model", "horizon", "backtest", "MASE", "interval",
    "coverage", "fan chart", "occupancy", "capacity", "free beds", "admission", "discharge",
    # simulation
    "whole-system model", "scenario", "baseline", "scenario change", "run", "replication", "projection",
    "start state", "warm-up", "calibration", "comparison", "difference", "estimate",
    # running the platform
    "job", "worker", "person", "role", "permission", "account", "API token", "session", "audit entry",
    "escalation level", "OPEL", "action card",
]

#: Words that may appear in page headings and command or option names without a glossary entry:
#: ordinary English, units and formats.
PLAIN_WORDS = set(str.split("""
a about accurate after ahead all an and api any are as at be been before by can chance change changes chart
code commas csv data day days definition do download each empty end every first for free from full has have how
if in is it its json key kind last latest leave limit list lower made mean midnight new newest next not of on or
output page per points problem project run runs saved separated several sorry starting step status the their
then there this to today today's under upper url value was what when which with yesterday yes your
host port help format freq frequency fresh hours to input naive tz fill gaps test
started some make ping serve docs dask processes save
recent values day's groups used patient patients found activity no yet assessment arrivals national force
options yyyy mm dd
who why request sign in out local rows uk time important note apply done required differs behind highest
daily integrated care system's history summary verify create revoke add name only password stdin disable
enable passwd older than notify reason applicable subscribe
cancel show params submit once parent pid poll
whole sum
quiet
failed taking without confidence
"""))

#: Short forms in option names, and the glossary term each stands for.
ABBREVIATIONS = {"org": "organisation", "reps": "replication"}


def glossary_words() -> set[str]:
    """The words of every term in docs/GLOSSARY.md, lower case (abbreviations in brackets too)."""
    words: set[str] = set()
    for line in (ROOT / "docs" / "GLOSSARY.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| ") or line.startswith(("| term ", "|---")):
            continue
        term = line.split("|")[1]
        words |= set(re.findall(r"[a-z0-9][a-z0-9'-]*", term.lower()))
    return words


def glossary_terms() -> list[str]:
    terms = []
    for line in (ROOT / "docs" / "GLOSSARY.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith(("| term ", "|---")):
            terms += [t.strip().lower() for t in re.split(r",|\(|\)", line.split("|")[1]) if t.strip()]
    return terms


def _known(word: str, glossary: set[str]) -> bool:
    w = word.lower().strip("'")
    w = ABBREVIATIONS.get(w, w)
    singular = {w, w[:-1] if w.endswith("s") else w, w[:-2] if w.endswith("es") else w,
                w[:-3] + "y" if w.endswith("ies") else w}
    return w.isdigit() or bool(singular & (glossary | PLAIN_WORDS))


def page_names() -> Iterator[tuple[str, str]]:
    """(template, text) for each heading, table header, legend, label and summary (captions are sentences)."""
    tags = re.compile(r"<(h[1-6]|th|legend|label|summary|title)\b[^>]*>(.*?)</\1>", re.S)
    for path in sorted(TEMPLATES.glob("*.html")):
        html = path.read_text(encoding="utf-8")
        for _tag, inner in tags.findall(html):
            text = re.sub(r"{[{%#].*?[}%#]}", " ", inner, flags=re.S)  # Jinja: filled in at run time
            text = re.sub(r"<[^>]+>", " ", text)
            if text.strip():
                yield path.name, " ".join(text.split())


def command_names() -> Iterator[tuple[str, str]]:
    """(command, name) for each command and long option of ``uec``, hidden aliases too."""

    def walk(command: Any, path: list[str]) -> Iterator[tuple[str, str]]:
        where = "uec " + " ".join(path)
        if hasattr(command, "load_all"):  # groups whose subcommands are imported when run (uec.cli_lazy)
            command.load_all()
        if path:
            yield where, path[-1]
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--"):
                    yield where, opt[2:]
        for name, sub in (getattr(command, "commands", None) or {}).items():
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


def test_every_domain_noun_has_a_glossary_entry() -> None:
    terms = glossary_terms()
    missing = [n for n in DOMAIN_NOUNS if n.lower() not in terms]
    assert not missing, f"add to docs/GLOSSARY.md: {missing}"


def test_pages_use_only_glossary_nouns() -> None:
    glossary = glossary_words()
    unknown = sorted({f"{page}: {word!r} in {text!r}" for page, text in page_names()
                      for word in re.findall(r"[A-Za-z][A-Za-z']*", text) if not _known(word, glossary)})
    assert not unknown, "a domain noun goes in docs/GLOSSARY.md, plain English in PLAIN_WORDS:\n" + "\n".join(unknown)


def test_commands_use_only_glossary_nouns() -> None:
    glossary = glossary_words()
    unknown = sorted({f"{where}: {word!r}" for where, name in command_names()
                      for word in name.split("-") if not _known(word, glossary)})
    assert not unknown, "a domain noun goes in docs/GLOSSARY.md, plain English in PLAIN_WORDS:\n" + "\n".join(unknown)


def test_the_scan_sees_pages_and_commands() -> None:
    # Guards the checks above against passing because they read nothing.
    assert sum(1 for _ in page_names()) > 50
    assert ("uec standards", "standards") in set(command_names())
