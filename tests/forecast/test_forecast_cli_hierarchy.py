"""``uec forecast backtest --hierarchy``: reconciled backtests from the command line (issue 16)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from uec.forecast.cli import DEFAULT_RECONCILE, RECONCILE_CHOICES, app
from uec.forecast.reconcile import METHODS, reconcile_backtest

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "data" / "forecast"
#: total = a + b, a = a1 + a2: two levels, and a total ("a") that is also a part.
TREE = "total,part\ntotal,a\ntotal,b\na,a1\na,a2\n"


def _bottom(tmp_path: Path) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ds = pd.date_range("2023-01-01", periods=200)
    return pd.concat(
        pd.DataFrame({"unique_id": uid, "ds": ds.strftime("%Y-%m-%d"),
                      "y": rng.poisson(lam + 12 * (ds.day_of_week == 0))})
        for uid, lam in (("a1", 50), ("a2", 30), ("b", 80))
    )


@pytest.fixture
def full_csv(tmp_path: Path) -> Path:
    """Every series of the tree, totals included, each the exact sum of its parts."""
    bottom = _bottom(tmp_path)
    w = bottom.pivot(index="ds", columns="unique_id", values="y")
    totals = [pd.DataFrame({"unique_id": "a", "ds": w.index, "y": w["a1"] + w["a2"]}),
              pd.DataFrame({"unique_id": "total", "ds": w.index, "y": w["a1"] + w["a2"] + w["b"]})]
    p = tmp_path / "full.csv"
    pd.concat([bottom, *totals]).to_csv(p, index=False)
    return p


@pytest.fixture
def tree_csv(tmp_path: Path) -> Path:
    p = tmp_path / "tree.csv"
    p.write_text(TREE)
    return p


def _args(path: Path, *extra: str) -> list[str]:
    return ["backtest", str(path), "--freq", "daily", "--horizon", "7", "--every", "7",
            "--test-from", "2023-05-01", "--test-to", "2023-07-06", *extra]


def _payload(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.output.strip().splitlines()[-1])
    return out


def _assert_adds_up(fc: pd.DataFrame, column: str = "mean") -> None:
    """Every total equals the sum of its parts at every origin and step."""
    w = fc.pivot_table(index=["origin", "ds"], columns="unique_id", values=column)
    assert len(w) == 10 * 7 and not w.isna().any().any()
    np.testing.assert_allclose(w["a"], w["a1"] + w["a2"], rtol=1e-9)
    np.testing.assert_allclose(w["total"], w["a"] + w["b"], rtol=1e-9)


def test_choices_match_the_library() -> None:
    # The CLI writes the methods out so `--help` imports no pandas; they must not drift.
    assert tuple([*METHODS, "auto"]) == RECONCILE_CHOICES
    assert inspect.signature(reconcile_backtest).parameters["method"].default == DEFAULT_RECONCILE


def test_two_level_hierarchy_adds_up_and_is_compared(full_csv: Path, tree_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc.csv"
    result = runner.invoke(app, _args(full_csv, "--model", "glm", "--hierarchy", str(tree_csv),
                                      "--output", str(out), "--json"))
    payload = _payload(result)
    text = result.output
    assert "Totals before and after reconciliation by mint_shrink (glm forecasts)" in text
    assert "glm backtest: 10 origins every 7, horizon 7 (daily), reconciled by mint_shrink" in text
    # The comparison comes first, then the reconciled scorecard.
    assert text.index("Totals before and after") < text.index("glm backtest:")
    fc = pd.read_csv(out)
    assert list(fc.columns[:4]) == ["unique_id", "origin", "ds", "mean"]
    assert list(fc.columns[-2:]) == ["y", "base_mean"] and len(fc) == 5 * 10 * 7
    _assert_adds_up(fc)
    assert (fc["mean"] - fc["base_mean"]).abs().max() > 0.1  # the glm forecasts did not add up
    rec = payload["reconciled"]
    assert rec["method"] == "mint_shrink" and rec["hierarchy"] == {"total": ["a", "b"], "a": ["a1", "a2"]}
    assert rec["added_totals"] == [] and 0 < rec["origins_ols"] < 10
    assert [t["unique_id"] for t in rec["totals"]] == ["total", "a"]
    for t in rec["totals"]:
        assert t["n"] == 70
        for side in ("base", "reconciled"):
            assert 0 < t[side]["mase"] < 2 and 0 <= t[side]["coverage_80"] <= 1 and 0 <= t[side]["coverage_95"] <= 1
    # The scorecard is that of the reconciled forecasts.
    card = {(r["unique_id"], r["step"]): r for r in payload["scorecard"]}
    assert card["total", "all"]["mase"] == pytest.approx(rec["totals"][0]["reconciled"]["mase"])


@pytest.mark.parametrize("method", RECONCILE_CHOICES)
def test_every_method_adds_up(method: str, full_csv: Path, tree_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc.csv"
    result = runner.invoke(app, _args(full_csv, "--hierarchy", str(tree_csv), "--reconcile", method,
                                      "--output", str(out), "--json"))
    assert _payload(result)["reconciled"]["method"] == method
    _assert_adds_up(pd.read_csv(out))
    if method == "auto":
        assert "auto chose (origin × horizon week):" in result.output


def test_missing_totals_are_added_as_the_sum_of_their_parts(tmp_path: Path, tree_csv: Path) -> None:
    bottom_csv = tmp_path / "bottom.csv"
    _bottom(tmp_path).to_csv(bottom_csv, index=False)
    out = tmp_path / "fc.csv"
    result = runner.invoke(app, _args(bottom_csv, "--hierarchy", str(tree_csv), "--output", str(out), "--json"))
    payload = _payload(result)
    assert "added total, a as the sum of their parts" in result.stderr
    assert payload["reconciled"]["added_totals"] == ["total", "a"] and payload["series"] == 5
    fc = pd.read_csv(out)
    _assert_adds_up(fc)
    _assert_adds_up(fc, "y")  # the actuals of the added totals are the sums too


def _error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "Traceback" not in result.output
    return err


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (TREE + "a,ghost\n", "the hierarchy names series the data does not have: ghost"),
        (TREE + "b,total\n", "hierarchy has a cycle: total → b → total"),
        ("total,part\nx,x\n", "hierarchy has a cycle: x → x"),
        (TREE + "a,a2\n", "hierarchy row 5: duplicate of row 4 (a,a2)"),
        (TREE + "total,a1\n", "hierarchy row 5: 'a1' is already a part of 'a' (row 3)"),
        ("parent,child\ntotal,a\n", "missing column(s) total, part: need total,part"),
        ("total,part\n", "has no rows"),
        ("total,part\ntotal,\n", "hierarchy row 1: missing part"),
    ],
)
def test_bad_hierarchy_is_one_error_line(tree: str, message: str, full_csv: Path, tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(tree)
    assert message in _error(runner.invoke(app, _args(full_csv, "--hierarchy", str(p))))


def test_bad_options_are_one_error_line(full_csv: Path, tree_csv: Path, tmp_path: Path) -> None:
    err = _error(runner.invoke(app, _args(full_csv, "--hierarchy", str(tree_csv), "--reconcile", "mint")))
    assert "unknown reconciliation method 'mint': choose from bottom_up, ols, wls_struct" in err and "auto" in err
    assert "--reconcile needs --hierarchy" in _error(runner.invoke(app, _args(full_csv, "--reconcile", "ols")))
    assert "no such file" in _error(runner.invoke(app, _args(full_csv, "--hierarchy", str(tmp_path / "no.csv"))))
    store_args = ["backtest", "--series", "x", "--horizon", "7", "--every", "7", "--test-from", "2023-05-01",
                  "--test-to", "2023-07-06", "--hierarchy", str(tree_csv)]
    assert "--hierarchy works with INPUT.csv, not --series" in _error(runner.invoke(app, store_args))


def test_swast_areas_reconciled_by_mint(tmp_path: Path) -> None:
    # The seven South Western Ambulance areas and their sum, a few weekly origins of the 2019 test year.
    areas = pd.read_csv(DATA / "swast_areas_daily.csv")
    total = areas.groupby("ds", as_index=False)["y"].sum().assign(unique_id="SWAST")
    data, tree, out = tmp_path / "swast.csv", tmp_path / "tree.csv", tmp_path / "fc.csv"
    pd.concat([total, areas], ignore_index=True).to_csv(data, index=False)
    names = sorted(areas["unique_id"].unique())
    tree.write_text("total,part\n" + "".join(f"SWAST,{a}\n" for a in names))
    result = runner.invoke(app, ["backtest", str(data), "--freq", "daily", "--horizon", "14", "--every", "7",
                                 "--test-from", "2019-01-01", "--test-to", "2019-02-26", "--model", "glm",
                                 "--refit-every", "28", "--hierarchy", str(tree), "--output", str(out), "--json"])
    rec = _payload(result)["reconciled"]
    assert rec["method"] == "mint_shrink" and rec["origins_ols"] < 9  # MinT itself at most origins
    (swast,) = rec["totals"]
    assert swast["unique_id"] == "SWAST" and swast["n"] == 9 * 14
    assert swast["base"]["mase"] > 0 and swast["reconciled"]["mase"] > 0
    fc = pd.read_csv(out)
    w = fc.pivot_table(index=["origin", "ds"], columns="unique_id", values="mean")
    assert len(w) == 9 * 14
    np.testing.assert_allclose(w["SWAST"], w[names].sum(axis=1), rtol=1e-9)
