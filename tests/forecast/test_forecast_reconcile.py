"""Hierarchical reconciliation: coherence, the methods' defining properties, and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from uec.forecast.quantiles import QUANTILE_COLUMNS
from uec.forecast.reconcile import (
    AUTO_METHODS,
    projection,
    reconcile,
    reconcile_backtest,
    shrunk_covariance,
    summing_matrix,
)


def _fc(means: dict[str, float], ds: str = "2024-01-01") -> pd.DataFrame:
    fc = pd.DataFrame({"unique_id": list(means), "ds": pd.Timestamp(ds), "mean": list(means.values())})
    for i, c in enumerate(QUANTILE_COLUMNS):
        fc[c] = fc["mean"] + (i - 10)
    return fc


TREE = {"ics": ["t1", "t2"], "t1": ["s1", "s2"]}


@pytest.mark.parametrize("method", ["bottom_up", "ols", "wls_struct", "wls_var", "mint_shrink", "mint_sample"])
def test_every_method_makes_totals_and_parts_agree(method: str) -> None:
    _, ids = summing_matrix(TREE)
    rng = np.random.default_rng(0)
    errors = rng.normal(size=(60, len(ids))) * np.array([5, 3, 2, 1, 1])
    out = reconcile(_fc({"ics": 100.0, "t1": 50.0, "t2": 45.0, "s1": 20.0, "s2": 25.0}), TREE, method, errors)
    m = out.set_index("unique_id")["mean"]
    assert m["ics"] == pytest.approx(m["t1"] + m["t2"])
    assert m["t1"] == pytest.approx(m["s1"] + m["s2"])
    # Quantiles move with their mean: each series keeps its interval width, and stays sorted.
    q = out[list(QUANTILE_COLUMNS)].to_numpy()
    assert np.allclose(q[:, -1] - q[:, 0], 20.0) and np.all(np.diff(q, axis=1) >= 0)


def test_projection_reproduces_coherent_forecasts_and_bottom_up_keeps_bottom() -> None:
    S, _ = summing_matrix(TREE)
    coherent = S @ np.array([3.0, 4.0, 5.0])
    rng = np.random.default_rng(1)
    errors = rng.normal(size=(40, 5))
    for method in ("bottom_up", "ols", "wls_struct", "wls_var", "mint_shrink", "mint_sample"):
        P = projection(S, method, errors)
        assert np.allclose(S @ P @ coherent, coherent)  # SPS = S: unbiased
    assert np.allclose(projection(S, "bottom_up") @ np.arange(5.0), [2.0, 3.0, 4.0])


def test_mint_trusts_the_reliable_series() -> None:
    # The total is forecast far better than its parts: MinT keeps it; OLS splits the difference.
    tree = {"t": ["a", "b"]}
    rng = np.random.default_rng(2)
    errors = np.column_stack([rng.normal(0, 1, 200), rng.normal(0, 20, 200), rng.normal(0, 20, 200)])
    fc = _fc({"t": 100.0, "a": 40.0, "b": 40.0})
    mint = reconcile(fc, tree, "mint_shrink", errors).set_index("unique_id")["mean"]
    ols = reconcile(fc, tree, "ols").set_index("unique_id")["mean"]
    assert abs(mint["t"] - 100.0) < 1.0 and abs(ols["t"] - 100.0) > 5.0


def test_shrinkage_pulls_correlations_towards_zero() -> None:
    rng = np.random.default_rng(3)
    e = rng.normal(size=(15, 6))
    sample = np.asarray(np.corrcoef(e.T), dtype=np.float64)
    cov = shrunk_covariance(e)
    sd = np.sqrt(np.diag(cov))
    shrunk = cov / np.outer(sd, sd)
    off = ~np.eye(6, dtype=bool)
    assert np.all(np.abs(shrunk[off]) <= np.abs(sample[off]) + 1e-12)


def test_reconcile_backtest_uses_only_errors_known_at_the_origin() -> None:
    tree = {"t": ["a", "b"]}
    rows = []
    origins = pd.date_range("2024-01-01", periods=12, freq="7D")
    rng = np.random.default_rng(4)
    for o in origins:
        for k in range(7):
            ds = o + pd.Timedelta(days=k)
            ya, yb = 50 + rng.normal(0, 2), 30 + rng.normal(0, 2)
            for uid, mean, y in (("t", 85.0, ya + yb), ("a", 50.0, ya), ("b", 30.0, yb)):
                rows.append({"unique_id": uid, "origin": o, "ds": ds, "mean": mean, "y": y})
    fc = pd.DataFrame(rows)
    for c in QUANTILE_COLUMNS:
        fc[c] = fc["mean"]
    out = reconcile_backtest(fc, tree, "daily", "mint_shrink", min_errors=14)
    # Changing the actuals of the last origin cannot change any forecast (they are after it).
    changed = fc.copy()
    changed.loc[changed["origin"] == origins[-1], "y"] += 1000.0
    again = reconcile_backtest(changed, tree, "daily", "mint_shrink", min_errors=14)
    assert np.allclose(out["mean"], again["mean"])
    # ...while the actuals of earlier origins do inform later ones.
    earlier = fc.copy()
    earlier.loc[(earlier["origin"] == origins[3]) & (earlier["unique_id"] == "a"), "y"] += 50.0
    moved = reconcile_backtest(earlier, tree, "daily", "mint_shrink", min_errors=14)
    assert not np.allclose(out["mean"], moved["mean"])
    m = out[out["origin"] == origins[-1]].pivot(index="ds", columns="unique_id", values="mean")
    assert np.allclose(m["t"], m["a"] + m["b"])


def test_unknown_method_and_missing_series_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown reconciliation method"):
        reconcile(_fc({"t": 1.0, "a": 1.0, "b": 1.0}), {"t": ["a", "b"]}, "magic")
    with pytest.raises(ValueError, match="no forecasts for series"):
        reconcile(_fc({"t": 1.0, "a": 1.0}), {"t": ["a", "b"]}, "bottom_up")


def test_shrinkage_intensity_is_schafer_strimmer() -> None:
    # The estimator of Schäfer & Strimmer (2005) as hierarchicalforecast's MinTrace(mint_shrink)
    # writes it, computed independently: centred covariance (n − 1), standardised with the
    # population SD, λ = Σ_{i≠j} Var(r_ij) / Σ_{i≠j} r_ij² with Var(r_ij) = Σ_k (w_kij − w̄_ij)² /
    # (n (n − 1)), off-diagonal entries scaled by 1 − λ, variances kept.
    rng = np.random.default_rng(7)
    n = 40
    base = rng.normal(size=(n, 1))
    e = base + rng.normal(size=(n, 4)) * np.array([0.5, 1.0, 2.0, 3.0])
    x = e - e.mean(axis=0)
    xs = x / e.std(axis=0)
    cov = x.T @ x / (n - 1)
    num = den = 0.0
    for i in range(4):
        for j in range(4):
            if i != j:
                w = xs[:, i] * xs[:, j]
                num += float(np.sum((w - w.mean()) ** 2)) / (n * (n - 1))
                den += float(w.mean()) ** 2
    lam = min(max(num / den, 0.0), 1.0)
    expected = cov * (1 - lam)
    np.fill_diagonal(expected, np.diag(cov))
    assert 0.0 < lam < 1.0
    assert np.allclose(shrunk_covariance(e), expected)


def test_reconcile_backtest_can_take_one_step_residuals() -> None:
    # MinT as published: W from one-step residuals of each base model, only those before the origin.
    tree = {"t": ["a", "b"]}
    origins = pd.date_range("2024-03-04", periods=2, freq="7D")
    rows = [
        {"unique_id": uid, "origin": o, "ds": o + pd.Timedelta(days=k), "mean": m, "y": m}
        for o in origins
        for k in range(7)
        for uid, m in (("t", 100.0), ("a", 40.0), ("b", 50.0))
    ]
    fc = pd.DataFrame(rows)
    for c in QUANTILE_COLUMNS:
        fc[c] = fc["mean"]
    rng = np.random.default_rng(8)
    days = pd.date_range("2024-01-01", "2024-03-17")
    # The total's one-step forecasts were far better than the parts': MinT keeps the total.
    res = pd.DataFrame(
        [
            {"unique_id": uid, "ds": d, "mean": 0.0, "y": rng.normal(0, sd)}
            for d in days
            for uid, sd in (("t", 1.0), ("a", 20.0), ("b", 20.0))
        ]
    )
    out = reconcile_backtest(fc, tree, "daily", "mint_shrink", residuals=res)
    first = out[out["origin"] == origins[0]].groupby("unique_id")["mean"].first()
    assert abs(first["t"] - 100.0) < 1.0 and first["t"] == pytest.approx(first["a"] + first["b"])
    # Residuals on or after an origin are not used for it.
    later = res.copy()
    later.loc[later["ds"] >= origins[0], "y"] *= 50.0
    again = reconcile_backtest(fc, tree, "daily", "mint_shrink", residuals=later)
    same = again[again["origin"] == origins[0]]["mean"].to_numpy()
    assert np.allclose(same, out[out["origin"] == origins[0]]["mean"].to_numpy())


def test_wls_weights_follow_structure_and_error_variance() -> None:
    S, _ = summing_matrix({"t": ["a", "b"]})
    # Structural scaling: the total counts as two series, so it moves more than each part.
    out = S @ projection(S, "wls_struct") @ np.array([12.0, 4.0, 5.0])
    assert out.round(3).tolist() == [10.5, 4.75, 5.75]
    # Variance scaling: a part forecast without error is kept as it is.
    errors = np.random.default_rng(9).normal(size=(100, 3)) * np.array([3.0, 1e-6, 3.0])
    out = S @ projection(S, "wls_var", errors) @ np.array([12.0, 4.0, 5.0])
    assert out[1] == pytest.approx(4.0, abs=1e-6)


def _drifting_backtest(total_error: float) -> pd.DataFrame:
    # The total is forecast `total_error` off at every origin, the parts exactly: the methods
    # that keep the parts (bottom-up) score best on the past.
    rows = []
    origins = pd.date_range("2024-01-01", periods=10, freq="7D")
    rng = np.random.default_rng(5)
    for o in origins:
        for k in range(14):
            ds = o + pd.Timedelta(days=k)
            ya, yb = 50 + rng.normal(0, 1), 30 + rng.normal(0, 1)
            for uid, mean, y in (("t", ya + yb + total_error, ya + yb), ("a", ya, ya), ("b", yb, yb)):
                rows.append({"unique_id": uid, "origin": o, "ds": ds, "mean": mean, "y": y})
    fc = pd.DataFrame(rows)
    for c in QUANTILE_COLUMNS:
        fc[c] = fc["mean"]
    return fc


def test_auto_reconciliation_chooses_on_the_past_only() -> None:
    tree = {"t": ["a", "b"]}
    fc = _drifting_backtest(10.0)
    chosen: dict[tuple[pd.Timestamp, int], str] = {}
    out = reconcile_backtest(fc, tree, "daily", "auto", chosen=chosen, min_errors=14)
    origins = sorted({o for o, _ in chosen})
    # No scored past at the first origin: the first candidate; then the best on the past, for
    # each horizon week (the second week is first scored at the third origin).
    assert chosen[(origins[0], 0)] == chosen[(origins[1], 1)] == AUTO_METHODS[0]
    assert chosen[(origins[-1], 0)] == chosen[(origins[-1], 1)] == "bottom_up"
    # The forecasts at each origin are that method's, and add up.
    bottom = reconcile_backtest(fc, tree, "daily", "bottom_up")
    last = out["origin"] == origins[-1]
    assert np.allclose(out.loc[last, "mean"], bottom.loc[last.to_numpy(), "mean"])
    wide = out.pivot_table(index=["origin", "ds"], columns="unique_id", values="mean")
    assert np.allclose(wide["t"], wide["a"] + wide["b"])
    # Actuals on or after an origin cannot change its choice or its forecasts.
    changed = fc.copy()
    changed.loc[changed["ds"] >= origins[5], "y"] *= 3.0
    again: dict[tuple[pd.Timestamp, int], str] = {}
    moved = reconcile_backtest(changed, tree, "daily", "auto", chosen=again, min_errors=14)
    early = out["origin"] <= origins[5]
    assert {k: v for k, v in again.items() if k[0] <= origins[5]} == {
        k: v for k, v in chosen.items() if k[0] <= origins[5]
    }
    assert np.allclose(out.loc[early, "mean"], moved.loc[early.to_numpy(), "mean"])


def test_auto_reconciliation_rejects_unknown_candidates() -> None:
    with pytest.raises(ValueError, match="unknown reconciliation method"):
        reconcile_backtest(_drifting_backtest(1.0), {"t": ["a", "b"]}, "daily", "auto", candidates=("magic",))
    with pytest.raises(ValueError, match="criterion"):
        reconcile_backtest(_drifting_backtest(1.0), {"t": ["a", "b"]}, "daily", "auto", criterion="mape")
