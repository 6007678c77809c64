"""The national UEC collections in their published layouts: one kind each, golden figures per file.

Each real file in ``tests/data/returns`` (see its README for sources, licences and the published
figures) loads with one ``ingest(store, KIND, FILE)``, on both stores.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from pathlib import Path
from typing import Any

import pytest

from uec.contract import collection, collections, reference_markdown
from uec.ingest import ingest
from uec.store import Store

DATA = Path(__file__).parents[1] / "data" / "returns"


def _rows(name: str) -> list[dict[str, str]]:
    with gzip.open(DATA / name, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _values(store: Store, source: str, **where: Any) -> dict[tuple[str, dt.date, str], float]:
    cond = "".join(f" AND {k} = :{k}" for k in where)
    rows = store.query(
        f"SELECT org_code, period_start, metric_code, value FROM returns WHERE source = :source{cond}",
        {"source": source, **where})
    return {(r["org_code"], r["period_start"], r["metric_code"]): float(r["value"]) for r in rows}


def test_every_kind_and_code_is_in_the_contract_reference() -> None:
    doc = reference_markdown()
    for c in collections():
        assert f"(`{c.source}`)" in doc
        for m in c.metrics:
            assert f"| `{m.code}` | {m.national} |" in doc
    from uec.ingest import kinds

    assert {k for c in collections() for k in c.kinds} <= set(kinds())


def test_ambsys_whole_file_loads_and_missing_fields_give_no_row(store: Store) -> None:
    r = ingest(store, "ambsys", DATA / "ambsys_2017-08_to_2021-01.csv.gz")
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (798, 798, 0)
    # Every field the file gives, and none it marks ".": 65,092 values over 123 fields.
    published = sum(1 for row in _rows("ambsys_2017-08_to_2021-01.csv.gz")
                    for k, v in row.items() if k.startswith("A") and k[1:].isdigit() and v != ".")
    assert store.counts()["returns"] == published == 65_092
    assert store.query("SELECT count(*) AS n FROM returns WHERE org_code = 'Y63' AND period_start = :d",
                       {"d": dt.date(2017, 8, 1)})[0]["n"] == 0
    eng = _values(store, "ambsys", org_code="Eng", period_start=dt.date(2019, 12, 1))
    assert (eng[("Eng", dt.date(2019, 12, 1), "ambsys_A25")], eng[("Eng", dt.date(2019, 12, 1), "ambsys_A31")]) == (
        455, 1688)


def test_monthly_ae_all_types_layout_keeps_missing_counts_missing(store: Store) -> None:
    r = ingest(store, "ae-monthly", DATA / "england_trust_accidents_emergency.csv.gz")
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (7_895, 7_895, 0)
    got = _values(store, "ae_monthly")
    checked = 0
    for row in _rows("england_trust_accidents_emergency.csv.gz"):
        key = (row["nhs_trust22_code"], dt.date.fromisoformat(row["date"]))
        assert got[(*key, "ae_attendances_all")] == float(row["total_attendances"])
        if row["attendances_over_4hours"] in ("", "NA"):
            assert (*key, "ae_breaches_all") not in got  # missing stays missing, never 0
            continue
        if row["pct_attendance_over_4hours"] not in ("", "NA"):
            share = got[(*key, "ae_breaches_all")] / got[(*key, "ae_attendances_all")]
            assert round(share, 2) == float(row["pct_attendance_over_4hours"]), key
            checked += 1
    assert checked == 7_083
    assert sum(1 for k in got if k[2] == "ae_breaches_all") == 7_895 - 354


def test_sitrep_monthly_beds_load_as_published(store: Store) -> None:
    r = ingest(store, "uec-sitrep-monthly", DATA / "england_critical_general_acute_beds.csv.gz")
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (5_557, 5_557, 0)
    got = _values(store, "uec_sitrep")
    c = collection("uec_sitrep")
    for row in _rows("england_critical_general_acute_beds.csv.gz")[:400]:
        key = (row["nhs_trust22_code"], dt.date.fromisoformat(row["date"]))
        for m in c.metrics:
            if m.column in row:
                text = row[m.column]
                assert got.get((*key, m.code)) == (None if text in ("", "NA") else float(text)), (key, m.code)


def test_criteria_to_reside_england_daily_total(store: Store) -> None:
    r = ingest(store, "discharge-sitrep", DATA / "england_trust_criteria_to_reside.csv.gz")
    assert (r.rows_in, r.rows_quarantined) == (149_482, 0)
    days = store.query(
        "SELECT period_start, sum(value) AS v FROM returns WHERE metric_code = 'discharge_not_meeting_ctr' "
        "AND period_length = 'day' GROUP BY period_start")
    totals = [float(d["v"]) for d in days]
    # Published with the data: mean 22,615 over the 1,249 days, maximum 27,507.
    assert len(totals) == 1_249
    assert round(sum(totals) / len(totals)) == 22_615
    assert max(totals) == 27_507


def test_discharged_patients_split_adds_up(store: Store) -> None:
    r = ingest(store, "discharge-sitrep", DATA / "england_trust_discharged_patients_2022-04_to_2022-06.csv.gz")
    assert (r.rows_in, r.rows_quarantined) == (11_011, 0)
    got = _values(store, "discharge_sitrep")
    units = {(o, d) for o, d, _ in got}
    assert len(units) == 11_011
    for o, d in units:
        assert got[(o, d, "discharge_by_1700")] + got[(o, d, "discharge_1701_2359")] == got[(o, d, "discharge_total")]


def test_discharge_delay_reasons_all_known_and_empty_counts_give_no_row(store: Store) -> None:
    r = ingest(store, "discharge-delays", DATA / "england_delayed_discharge_reasons.csv.gz")
    assert (r.rows_in, r.rows_quarantined) == (52_651, 0)
    row = store.query("SELECT count(*) AS n, count(DISTINCT metric_code) AS m, count(DISTINCT org_code) AS o, "
                      "count(DISTINCT period_start) AS p FROM returns WHERE source = 'discharge_delays'")[0]
    assert (row["n"], row["m"], row["o"], row["p"]) == (52_392, 37, 119, 12)


def test_discharge_delay_unknown_reason_is_quarantined_with_the_known_ones(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "delays.csv"
    f.write_text("nhs_trust22_code,date,delay_reason,delay_count\n"
                 "R0A,2024-06-01,Hospital process - Awaiting patient transport services,4\n"
                 "R0A,2024-06-01,Waiting for the weather,2\n")
    r = ingest(store, "discharge-delays", f)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (2, 1, 1)
    reason = store.query("SELECT reason FROM quarantine")[0]["reason"]
    assert reason.startswith("delay_reason: 'Waiting for the weather' is not one of the known: ")
    assert "Hospital process – Awaiting patient transport services" in reason


def test_scotland_layout_needs_no_admissions_and_splits_department_types(store: Store) -> None:
    r = ingest(store, "ae-scotland", DATA / "scotland_ae_attendance.csv.gz")
    assert r.rows_in == 17_844 and r.rows_loaded + r.rows_quarantined == r.rows_in
    # One published row repeats a site, month and department type: quarantined, not added.
    assert r.rows_quarantined == 1
    assert "duplicate of row" in store.query("SELECT reason FROM quarantine")[0]["reason"]
    got = _values(store, "ae_scotland")
    assert not any("admissions" in k[2] for k in got)
    for o, d, code in got:
        if code.startswith("ae_attendances_"):
            kind = code.removeprefix("ae_attendances_")
            assert got[(o, d, f"ae_within_4h_{kind}")] + got[(o, d, f"ae_breaches_{kind}")] == got[(o, d, code)]
    sites = {o for o, _, _ in got}
    months = {d for _, d, _ in got}
    assert (len(sites), len(months), min(months)) == (103, 212, dt.date(2007, 7, 1))


def test_wales_long_layout_reproduces_the_published_percentages(store: Store) -> None:
    r = ingest(store, "ae-wales", DATA / "wales_ae_performance_6_departments.csv.gz")
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (9_720, 9_720, 0)
    got = _values(store, "ae_wales")
    units = {(o, d) for o, d, c in got if c == "ae_attendances_all"}
    assert len(units) == 1_140
    for o, d in units:
        pct = 100 * got[(o, d, "ae_within_4h_all")] / got[(o, d, "ae_attendances_all")]
        assert pct == pytest.approx(got[(o, d, "ae_pct_within_4h")], abs=1e-4)


def test_wales_repeated_total_that_differs_is_quarantined(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "wales.csv"
    f.write_text("hospital_code,hospital_department,date,performance_measure,performance_target,data\n"
                 "7A1X,Dept,2024-01-01,Total attendances,4hr,100\n"
                 "7A1X,Dept,2024-01-01,Total attendances,8hr,100\n"
                 "7A1X,Dept,2024-01-01,Total attendances,12hr,99\n"
                 "7A1X,Dept,2024-01-01,Attendances where patients spend less than the target time,4hr,90\n")
    r = ingest(store, "ae-wales", f)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (4, 2, 2)
    reasons = sorted(x["reason"] for x in store.query("SELECT reason FROM quarantine"))
    assert reasons[0].startswith("data: total attendances on the 12hr row (99) differ from the first (100)")
    assert reasons[1].startswith("performance_measure|performance_target: 'Attendances where patients spend less "
                                 "than the target time|4hr' is not one of the known")
    assert _values(store, "ae_wales") == {("7A1X", dt.date(2024, 1, 1), "ae_attendances_all"): 100.0}


def test_sitrep_handover_delays_reproduce_the_published_england_figures(store: Store) -> None:
    r = ingest(store, "uec-sitrep", DATA / "handover_delays_england_and_6_trusts.csv.gz")
    assert r.rows_in == 4_858
    per_day: dict[str, tuple[list[float], list[float]]] = {}
    winters = {row["date"]: row["winter"] for row in _rows("handover_delays_england_and_6_trusts.csv.gz")}
    eng = _values(store, "uec_sitrep", org_code="ENG")
    for (_, d, code), v in eng.items():
        a, b = per_day.setdefault(winters[d.isoformat()], ([], []))
        (a if code == "sitrep_handover_30_60" else b).append(v)
    means = {w: (round(sum(a) / len(a)), round(sum(b) / len(b))) for w, (a, b) in per_day.items()}
    assert {w: means[w] for w in ("2017-18", "2018-19", "2019-20", "2022-23")} == {
        "2017-18": (1376, 399), "2018-19": (1275, 325), "2019-20": (1518, 462), "2022-23": (1667, 1438)}

    def total(code: str, lo: dt.date, hi: dt.date) -> float:
        return sum(v for (_, d, c), v in eng.items() if c == code and lo <= d < hi)

    dec = (dt.date(2022, 12, 1), dt.date(2023, 1, 1))
    assert round(total("sitrep_handover_30_60", *dec) / 31, 1) == 1749.4
    assert round(total("sitrep_handover_over_60", *dec) / 31, 1) == 2079.4
    week = (dt.date(2022, 12, 26), dt.date(2023, 1, 2))
    assert total("sitrep_handover_over_60", *week) == 18_720
    assert total("sitrep_handover_over_60", *week) + total("sitrep_handover_30_60", *week) == 31_088
    nov = (dt.date(2022, 11, 21), dt.date(2022, 11, 28))
    assert (total("sitrep_handover_30_60", *nov), total("sitrep_handover_over_60", *nov)) == (12_610, 11_389)
    # The England total over type 1 trusts is its own code, not a duplicate of England.
    # (252 rows, 2 of them on the duplicated dates.)
    assert store.query("SELECT count(*) AS n FROM returns WHERE org_code = 'ENG_TYPE1'")[0]["n"] == 2 * 250
    # The duplicated dates of the source are quarantined as duplicates, with their row.
    reasons = [x["reason"] for x in store.query("SELECT reason FROM quarantine")]
    assert reasons and all(x.startswith("duplicate of row") for x in reasons)
    trusts = {(o, w): round(sum(v for (oo, d, c), v in _values(store, "uec_sitrep", org_code=o).items()
                                if c == "sitrep_handover_over_60" and winters[d.isoformat()] == w)
                            / len({d for (oo, d, c) in _values(store, "uec_sitrep", org_code=o)
                                   if winters[d.isoformat()] == w}), 1)
              for o in ("RRK", "R1H", "RTE", "RJ1", "RWE") for w in ("2019-20", "2022-23")}
    assert {k: trusts[k] for k in [("RRK", "2019-20"), ("RRK", "2022-23"), ("R1H", "2019-20"), ("R1H", "2022-23"),
                                   ("RTE", "2019-20"), ("RTE", "2022-23"), ("RJ1", "2019-20"), ("RJ1", "2022-23"),
                                   ("RWE", "2019-20")]} == {
        ("RRK", "2019-20"): 7.0, ("RRK", "2022-23"): 42.2, ("R1H", "2019-20"): 2.7, ("R1H", "2022-23"): 18.2,
        ("RTE", "2019-20"): 0.5, ("RTE", "2022-23"): 37.4, ("RJ1", "2019-20"): 0.0, ("RJ1", "2022-23"): 2.1,
        ("RWE", "2019-20"): 35.4}


def test_a_returns_file_of_a_known_collection_must_use_its_codes(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "returns.csv"
    f.write_text("org_code,period_start,period_length,metric_code,value,source\n"
                 "DEMO-A,2024-04-01,quarter,kh03_ga_available,100,kh03\n"
                 "DEMO-A,2024-04-01,quarter,kh03_beds_wobbly,100,kh03\n"
                 "DEMO-A,2024-04-01,day,any_local_code,3,opel\n")
    r = ingest(store, "returns", f)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    reason = store.query("SELECT reason FROM quarantine")[0]["reason"]
    assert reason.startswith("metric_code: 'kh03_beds_wobbly' is not a kh03 metric (known: kh03_total_available, ")


def test_a_layout_missing_its_columns_is_refused_in_one_line(store: Store, tmp_path: Path) -> None:
    from uec.errors import UecError

    f = tmp_path / "beds.csv"
    f.write_text("nhs_trust22_code,date,beds\nR0A,2024-01-01,5\n")
    with pytest.raises(UecError, match=r"not a uec-sitrep file: missing column\(s\) any of "):
        ingest(store, "uec-sitrep", f)
