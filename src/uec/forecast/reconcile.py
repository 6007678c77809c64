"""Hierarchical reconciliation: forecasts of series that add up (ICS → trust → site; service →
category) made to add up too.

A hierarchy is a mapping from each total to its parts (``{"trust": ["north", "south"]}``; a part
may itself be a total). Its *summing matrix* ``S`` turns the bottom series into all series. Given
base forecasts ``ŷ`` of every series, a reconciled forecast is ``S P ŷ``:

* ``bottom_up``: ``P`` picks the bottom series, so every total is the sum of its parts' forecasts.
* ``mint_shrink``: MinT (Wickramasuriya, Athanasopoulos & Hyndman 2019, JASA 114:804),
  ``P = (Sᵀ W⁻¹ S)⁻¹ Sᵀ W⁻¹`` with ``W`` the covariance of the base forecast errors, estimated
  with the Schäfer–Strimmer shrinkage of the correlations towards zero (their optimal λ).
  Every series' forecast is used, weighted by how reliable it has been.
* ``mint_sample``: MinT with the plain sample covariance (needs many more errors than series).
* ``ols``: ``W = I`` (no errors needed).
* ``wls_struct``: ``W = diag(S 1)``, each series weighted by how many bottom series it sums
  (Athanasopoulos, Ahmed & Hyndman 2009; no errors needed).
* ``wls_var``: ``W = diag`` of the variances of past errors (Hyndman, Lee & Wang 2016).

:func:`reconcile_backtest` also offers ``auto``: at each origin and horizon week, the method
whose reconciled forecasts from earlier origins scored best on the actuals known at that origin
(mean squared error, or AvgRelMAE, Davydenko & Fildes 2013), so the method is chosen per
hierarchy on its own past, never on the period being forecast. On the SWAST areas it did not
beat the unreconciled total (docs/forecasting.md), so the default stays ``mint_shrink``.

Only the means are projected; each series' quantiles are moved by the same amount as its mean,
so its interval keeps the base model's (calibrated) width and the reconciled means add up. The
medians add up only where each base median equals its mean (a skewed count model's do not:
with ``glm`` on a small synthetic tree they were up to 1.3% apart). A sum's quantiles are not
the sum of its parts' quantiles, so no method can make every quantile add up; this keeps each
series' intervals honest for that series.

This is a small implementation rather than Nixtla's ``hierarchicalforecast``: that library
resolves with our pins (1.5.3 with pandas 3) but brings matplotlib, scikit-learn, qpsolvers and
clarabel for two matrix formulas.

>>> S, ids = summing_matrix({"total": ["a", "b"]})
>>> ids, S.tolist()
(['total', 'a', 'b'], [[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
>>> (S @ projection(S, "bottom_up") @ np.array([10.0, 4.0, 5.0])).tolist()
[9.0, 4.0, 5.0]
>>> (S @ projection(S, "ols") @ np.array([10.0, 4.0, 5.0])).round(3).tolist()
[9.667, 4.333, 5.333]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from uec.forecast.base import Array
from uec.forecast.frame import Freq, season_length, step_of
from uec.forecast.quantiles import QUANTILE_COLUMNS

__all__ = [
    "AUTO_METHODS",
    "METHODS",
    "add_totals",
    "projection",
    "read_hierarchy",
    "reconcile",
    "reconcile_backtest",
    "shrunk_covariance",
    "summing_matrix",
]

METHODS: tuple[str, ...] = ("bottom_up", "ols", "wls_struct", "wls_var", "mint_shrink", "mint_sample")
#: What ``auto`` chooses among, in order of preference on a tie; the first is also its choice at
#: an origin with no scored past (the literature's default, MinT shrink).
AUTO_METHODS: tuple[str, ...] = ("mint_shrink", "mint_sample", "wls_var", "wls_struct", "ols", "bottom_up")
_ERROR_METHODS = ("wls_var", "mint_shrink", "mint_sample")


def summing_matrix(hierarchy: Mapping[str, Sequence[str]]) -> tuple[Array, list[str]]:
    """``S`` (all series × bottom series) and the series ids in its row order: the totals in the
    mapping's order, then the bottom series in the order first named.

    >>> S, ids = summing_matrix({"ics": ["t1", "t2"], "t1": ["s1", "s2"]})
    >>> ids, S.sum(axis=1).tolist()
    (['ics', 't1', 't2', 's1', 's2'], [3.0, 2.0, 1.0, 1.0, 1.0])
    """
    totals = list(hierarchy)
    bottom: list[str] = []
    for parts in hierarchy.values():
        if not parts:
            raise ValueError("every total in a hierarchy needs at least one part")
        bottom.extend(p for p in parts if p not in hierarchy and p not in bottom)
    index = {b: i for i, b in enumerate(bottom)}

    def leaves(node: str, seen: tuple[str, ...]) -> list[str]:
        if node in seen:
            raise ValueError(f"the hierarchy has a cycle through {node!r}")
        if node not in hierarchy:
            return [node]
        return [leaf for part in hierarchy[node] for leaf in leaves(part, (*seen, node))]

    rows = []
    for t in totals:
        row = np.zeros(len(bottom))
        for leaf in leaves(t, ()):
            row[index[leaf]] += 1.0
        rows.append(row)
    S = np.vstack([*rows, np.eye(len(bottom))])
    return S, totals + bottom


def read_hierarchy(path: str | Path) -> dict[str, list[str]]:
    """A hierarchy from a CSV with columns ``total,part``, one row per part (a part may itself be
    a total, so ICS → trust → site is two levels of rows). Totals keep the order they are first
    named in. Raises ``ValueError`` with a one-line message (naming the row, counted from 1 after
    the header) for a missing column or cell, a duplicate row, a part under two totals or a
    cycle; ``FileNotFoundError`` for a missing file.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "h.csv")
    ...     _ = open(p, "w").write("total,part\\nics,t1\\nics,t2\\nt1,s1\\nt1,s2\\n")
    ...     read_hierarchy(p)
    {'ics': ['t1', 't2'], 't1': ['s1', 's2']}
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}")
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{p} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p} is not a readable CSV: {str(exc).splitlines()[0]}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in ("total", "part") if c not in raw.columns]
    if missing:
        raise ValueError(f"hierarchy {p.name}: missing column(s) {', '.join(missing)}: need total,part")
    if raw.empty:
        raise ValueError(f"hierarchy {p.name} has no rows")
    hierarchy: dict[str, list[str]] = {}
    parent: dict[str, tuple[str, int]] = {}
    for row, (total, part) in enumerate(zip(raw["total"].str.strip(), raw["part"].str.strip(), strict=True), 1):
        if not total or not part:
            raise ValueError(f"hierarchy row {row}: missing {'total' if not total else 'part'}")
        if part in parent:
            first, at = parent[part]
            if first == total:
                raise ValueError(f"hierarchy row {row}: duplicate of row {at} ({total},{part})")
            raise ValueError(f"hierarchy row {row}: {part!r} is already a part of {first!r} (row {at}); "
                             "a part can be under one total only")
        parent[part] = (total, row)
        hierarchy.setdefault(total, []).append(part)
    # With one parent each, a cycle is a walk up the parents that comes back to where it began
    # (one that meets a cycle higher up is found when the walk starts on it).
    for start in hierarchy:
        walk, node = [start], start
        while node in parent:
            node = parent[node][0]
            if node == start:
                raise ValueError(f"hierarchy has a cycle: {' → '.join([*walk, start])} (each a part of the next)")
            if node in walk:
                break
            walk.append(node)
    return hierarchy


def add_totals(frame: pd.DataFrame, hierarchy: Mapping[str, Sequence[str]]) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` (long: ``unique_id, ds, y``) with every total of ``hierarchy`` that it lacks
    added as the sum of its bottom series, on the times all of those series have; and the ids
    added. Every bottom series must be in ``frame`` (``ValueError`` naming those that are not),
    and a total added must have at least one such time.

    >>> df = pd.DataFrame({"unique_id": ["a1", "a2", "b"], "ds": pd.Timestamp("2024-01-01"),
    ...                    "y": [1.0, 2.0, 4.0]})
    >>> out, added = add_totals(df, {"t": ["a", "b"], "a": ["a1", "a2"]})
    >>> added, out.set_index("unique_id")["y"].to_dict()
    (['t', 'a'], {'a1': 1.0, 'a2': 2.0, 'b': 4.0, 't': 7.0, 'a': 3.0})
    """
    S, ids = summing_matrix(hierarchy)
    have = set(frame["unique_id"])
    bottom = ids[len(hierarchy):]
    absent = [b for b in bottom if b not in have]
    if absent:
        raise ValueError(f"the hierarchy names series the data does not have: {', '.join(absent)}")
    added = [t for t in hierarchy if t not in have]
    if not added:
        return frame, []
    wide = frame[frame["unique_id"].isin(bottom)].pivot(index="ds", columns="unique_id", values="y")[bottom]
    parts = []
    for t in added:
        weights = S[ids.index(t)]
        # Only the times every one of its own bottom series has: a sum with a part missing would
        # look like a fall in demand.
        own = wide.loc[:, weights > 0].dropna()
        if own.empty:
            raise ValueError(f"cannot add total {t!r} as the sum of its parts: they have no time in common")
        sums = own.to_numpy() @ weights[weights > 0]
        parts.append(pd.DataFrame({"unique_id": t, "ds": own.index, "y": sums}))
    out = pd.concat([frame, *parts], ignore_index=True)
    return out, added


def shrunk_covariance(errors: Array) -> Array:
    """Schäfer–Strimmer shrinkage estimate of the covariance of the columns of ``errors``
    (rows: forecasts, columns: series): the correlations are pulled towards zero by the optimal
    λ, the variances kept. The same estimator as hierarchicalforecast's
    ``MinTrace(method="mint_shrink")``: centred covariance, λ = Σ_{i≠j} Var(r_ij) / Σ_{i≠j}
    r_ij² on the correlation scale (R's fable and hts use the uncentred ``crossprod(e) / n``
    instead; on the SWAST areas that scored 0.807 at 7 days on the total against 0.801 centred).

    >>> e = np.random.default_rng(0).normal(size=(200, 3))
    >>> bool(np.allclose(np.diag(shrunk_covariance(e)), e.var(axis=0, ddof=1)))
    True
    """
    n = errors.shape[0]
    x = errors - errors.mean(axis=0)
    sd = x.std(axis=0, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    z = x / sd
    corr = z.T @ z / (n - 1)
    w = np.einsum("ki,kj->kij", z, z)
    var_corr = n / (n - 1) ** 3 * ((w - w.mean(axis=0)) ** 2).sum(axis=0)
    off = ~np.eye(corr.shape[0], dtype=bool)
    denom = float(np.sum(corr[off] ** 2))
    lam = 1.0 if denom == 0 else min(max(float(np.sum(var_corr[off])) / denom, 0.0), 1.0)
    shrunk = corr * (1.0 - lam)
    np.fill_diagonal(shrunk, 1.0)
    out: Array = shrunk * np.outer(sd, sd)
    return out


def projection(S: Array, method: str, errors: Array | None = None) -> Array:
    """``P`` (bottom × all) of a reconciliation method; ``mint_shrink`` needs ``errors`` (rows:
    past forecasts, columns: series in ``S``'s row order).

    >>> S, _ = summing_matrix({"t": ["a", "b"]})
    >>> projection(S, "bottom_up").tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    n_all, n_bottom = S.shape
    if method == "bottom_up":
        return np.hstack([np.zeros((n_bottom, n_all - n_bottom)), np.eye(n_bottom)])
    W: Array
    if method == "ols":
        W = np.eye(n_all)
    elif method == "wls_struct":
        W = np.diag(S.sum(axis=1))
    elif method in _ERROR_METHODS:
        if errors is None or errors.shape[0] < 3 or errors.shape[1] != n_all:
            raise ValueError(f"{method} needs past forecast errors of every series (at least 3 rows)")
        if method == "mint_shrink":
            W = shrunk_covariance(errors)
        elif method == "mint_sample":
            W = np.asarray(np.cov(errors.T), dtype=float)
        else:
            W = np.diag(np.maximum(errors.var(axis=0, ddof=1), 1e-9))
    else:
        raise ValueError(f"unknown reconciliation method {method!r}: choose from {', '.join(METHODS)}")
    # A series whose past errors were all zero would make W singular; a ridge far below any
    # error variance keeps it invertible, and that series then keeps its forecast.
    W = W + np.eye(n_all) * 1e-9 * max(float(np.mean(np.diag(W))), 1e-12)
    Wi = np.linalg.pinv(W)
    out: Array = np.asarray(np.linalg.solve(S.T @ Wi @ S, S.T @ Wi), dtype=float)
    return out


def reconcile(
    forecasts: pd.DataFrame,
    hierarchy: Mapping[str, Sequence[str]],
    method: str = "mint_shrink",
    errors: Array | None = None,
) -> pd.DataFrame:
    """Reconciled copy of ``forecasts`` (``unique_id, ds, mean, q…`` for every series of the
    hierarchy; other columns kept): means projected, quantiles moved with their mean, clipped at
    zero where the base forecast was never negative.

    >>> fc = pd.DataFrame({"unique_id": ["t", "a", "b"], "ds": pd.Timestamp("2024-01-01"),
    ...                    "mean": [10.0, 4.0, 5.0]})
    >>> for c in QUANTILE_COLUMNS: fc[c] = fc["mean"]
    >>> reconcile(fc, {"t": ["a", "b"]}, "bottom_up")[["unique_id", "mean", "q0.50"]].values.tolist()
    [['t', 9.0, 9.0], ['a', 4.0, 4.0], ['b', 5.0, 5.0]]
    """
    S, ids = summing_matrix(hierarchy)
    missing = set(ids) - set(forecasts["unique_id"])
    if missing:
        raise ValueError(f"no forecasts for series {sorted(missing)} of the hierarchy")
    P = projection(S, method, errors)
    out = forecasts.copy()
    wide = out.pivot(index="ds", columns="unique_id", values="mean")[ids]
    new = wide.to_numpy() @ (S @ P).T
    change = new - wide.to_numpy()
    rows = wide.index.get_indexer(pd.Index(out["ds"]))
    cols = pd.Index(ids).get_indexer(pd.Index(out["unique_id"]))
    # Series outside the hierarchy (cols == -1) are left as they are.
    delta = np.where(cols >= 0, change[rows, np.maximum(cols, 0)], 0.0)
    nonneg = (out[list(QUANTILE_COLUMNS)].to_numpy() >= 0).all(axis=1) & (out["mean"].to_numpy() >= 0)
    out["mean"] = out["mean"] + delta
    q = out[list(QUANTILE_COLUMNS)].to_numpy() + delta[:, None]
    q = np.where(nonneg[:, None], np.maximum(q, 0.0), q)
    out[list(QUANTILE_COLUMNS)] = q
    out.loc[nonneg, "mean"] = np.maximum(out.loc[nonneg, "mean"], 0.0)
    return out


def reconcile_backtest(  # noqa: PLR0913 - the backtest and hierarchy, then keyword-only options
    forecasts: pd.DataFrame,
    hierarchy: Mapping[str, Sequence[str]],
    freq: Freq,
    method: str = "mint_shrink",
    *,
    error_steps: int | None = None,
    min_errors: int = 30,
    residuals: pd.DataFrame | None = None,
    candidates: Sequence[str] = AUTO_METHODS,
    chosen: dict[tuple[pd.Timestamp, int], str] | None = None,
    criterion: str = "mse",
    used: dict[pd.Timestamp, str] | None = None,
) -> pd.DataFrame:
    """Reconcile a backtest's forecasts (``unique_id, origin, ds, mean, q…, y``) origin by
    origin. MinT's error covariance at an origin uses only the errors of earlier origins'
    forecasts for times before it (steps 1..``error_steps``, by default every step: the errors at
    the horizons being reconciled, which on the SWAST areas gave MASE 0.759 at 7 days on the
    total against 0.794 with the first week's errors only), so nothing after the origin is
    used; an origin with fewer than ``min_errors`` such rows falls back to ``ols``. Begin the
    backtest some weeks before the period scored to give MinT a history.

    ``method="auto"`` reconciles with each of ``candidates`` and, at each origin
    and for each horizon week, keeps the one whose reconciled forecasts from earlier origins, at
    the same horizon week, scored best on the actuals before that origin: chosen on the
    hierarchy's own past, as ``auto`` chooses models. The score (``criterion``) is ``"mse"``, the
    mean squared error over every series (MinT's own objective, the trace of the reconciled
    error covariance), or ``"avgrelmae"``, the geometric mean over series of MAE relative to the
    unreconciled forecasts. With no scored past it takes the first candidate. ``chosen``, if
    given, receives the method used at each (origin, horizon week from 0). For the other
    methods ``used``, if given, receives the method used at each origin (``ols`` where there were
    too few errors), so a caller can say how many origins fell back.

    ``residuals`` (``unique_id, ds, mean, y``: one-step-ahead forecasts of each base model, e.g.
    a backtest with horizon 1 at every step) makes ``W`` the covariance of those one-step
    residuals before the origin instead, as the published MinT does with in-sample one-step
    residuals. On the SWAST areas that was worse on the total (MASE 0.813 shrunk, 0.803 sample,
    at 7 days, against 0.801 and 0.768 from the backtest's own errors at every step).

    >>> fc = pd.DataFrame({"unique_id": ["t", "a", "b"], "origin": pd.Timestamp("2024-01-01"),
    ...     "ds": pd.Timestamp("2024-01-01"), "mean": [10.0, 4.0, 5.0], "y": [9.0, 4.0, 5.0]})
    >>> for c in QUANTILE_COLUMNS: fc[c] = fc["mean"]
    >>> reconcile_backtest(fc, {"t": ["a", "b"]}, "daily", "ols")["mean"].round(3).tolist()
    [9.667, 4.333, 5.333]
    """
    if method == "auto":
        return _auto_backtest(
            forecasts, hierarchy, freq, candidates, chosen, criterion,
            error_steps=error_steps, min_errors=min_errors, residuals=residuals,
        )
    if method not in METHODS:
        raise ValueError(f"unknown reconciliation method {method!r}: choose from auto, {', '.join(METHODS)}")
    _, ids = summing_matrix(hierarchy)
    k = error_steps or int(1e9)
    step = step_of(freq)
    frame = forecasts.copy()
    frame["_step"] = ((pd.to_datetime(frame["ds"]) - pd.to_datetime(frame["origin"])) // step).astype("int64") + 1
    source = frame[(frame["_step"] <= k)] if residuals is None else residuals
    source = source[source["y"].notna()]
    err_wide = (
        source.assign(_err=source["y"] - source["mean"])
        .pivot_table(index=["origin", "ds"] if residuals is None else ["ds"], columns="unique_id", values="_err")
        .reindex(columns=ids)
        .dropna()
    )
    parts = []
    for origin, block in frame.groupby("origin", sort=True):
        use = method
        errors = None
        if method in _ERROR_METHODS:
            past = err_wide[err_wide.index.get_level_values("ds") < origin]  # nothing from after it
            if len(past) >= min_errors:
                errors = past.to_numpy()
            else:
                use = "ols"
        if used is not None:
            used[cast(pd.Timestamp, origin)] = use  # groupby on a datetime column gives Timestamps
        parts.append(reconcile(block.drop(columns="_step"), hierarchy, use, errors))
    return pd.concat(parts, ignore_index=True)


def _auto_backtest(
    forecasts: pd.DataFrame,
    hierarchy: Mapping[str, Sequence[str]],
    freq: Freq,
    candidates: Sequence[str],
    chosen: dict[tuple[pd.Timestamp, int], str] | None,
    criterion: str,
    **options: Any,
) -> pd.DataFrame:
    if criterion not in ("mse", "avgrelmae"):
        raise ValueError("criterion must be 'mse' or 'avgrelmae'")
    unknown = [c for c in candidates if c not in METHODS]
    if unknown or not candidates:
        raise ValueError(f"unknown reconciliation method(s) {unknown}: choose from {', '.join(METHODS)}")
    # Sorted by origin, as reconcile_backtest returns its blocks, so every variant's rows line up
    # with these by position.
    base = forecasts.sort_values("origin", kind="stable").reset_index(drop=True)
    variants = {m: reconcile_backtest(base, hierarchy, freq, m, **options) for m in candidates}
    origin = pd.to_datetime(base["origin"]).to_numpy()
    ds = pd.to_datetime(base["ds"]).to_numpy()
    y = base["y"].to_numpy(dtype=float)
    known = ~np.isnan(y)
    uid = base["unique_id"].to_numpy()
    base_err = np.abs(y - base["mean"].to_numpy(dtype=float))
    errs = {m: np.abs(y - v["mean"].to_numpy(dtype=float)) for m, v in variants.items()}
    # Choose per horizon week: the methods differ most at short range, and a choice pooled over
    # every step would be decided by the far weeks, where they nearly tie.
    band = ((ds - origin) // step_of(freq)).astype(np.int64) // season_length(freq)
    pick = np.empty(len(base), dtype=object)
    for o in np.unique(origin):
        rows = origin == o
        seen = known & (origin < o) & (ds < o)
        for b in np.unique(band[rows]):
            past = seen & (band == b)
            use = candidates[0]
            if past.any():
                if criterion == "mse":
                    scores = {m: float(np.mean(errs[m][past] ** 2)) for m in candidates}
                else:
                    scores = {m: _avg_rel_mae(errs[m][past], base_err[past], uid[past]) for m in candidates}
                finite = {m: v for m, v in scores.items() if np.isfinite(v)}
                if finite:
                    use = min(finite, key=lambda m: (finite[m], candidates.index(m)))
            pick[rows & (band == b)] = use
            if chosen is not None:
                chosen[(pd.Timestamp(o), int(b))] = use
    out = base.copy()
    for m, v in variants.items():
        sel = pick == m
        for c in ("mean", *QUANTILE_COLUMNS):
            out.loc[sel, c] = v.loc[sel, c].to_numpy()
    return out


def _avg_rel_mae(err: Array, base_err: Array, uid: Array) -> float:
    """Geometric mean over series of MAE / base MAE (series with a zero base MAE left out).

    >>> round(_avg_rel_mae(np.array([1.0, 4.0]), np.array([2.0, 1.0]), np.array(["a", "b"])), 4)
    1.4142
    """
    logs = []
    for u in np.unique(uid):
        sel = uid == u
        b = float(np.mean(base_err[sel]))
        if b > 0:
            logs.append(np.log(max(float(np.mean(err[sel])), 1e-12) / b))
    return float(np.exp(np.mean(logs))) if logs else float("nan")
