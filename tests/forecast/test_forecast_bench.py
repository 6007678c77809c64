"""The benchmark's hierarchy code path (bench/forecast_bench.py) on a few folds: every stage of the
paper's protocol is reachable, and each reconciliation method is printed next to the unreconciled
forecasts. The figures themselves are the benchmark's to print (docs/forecasting.md), not asserted."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "forecast_bench.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("forecast_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hierarchy_stage_flag_names_both_stages_of_the_paper() -> None:
    bench = _bench()
    assert bench.STAGES["stage1"] == ("stage1",)
    assert bench.STAGES["test"] == ("test2019",)
    assert bench.STAGES["both"] == ("stage1", "test2019")
    assert bench.PROTOCOLS["test2019"] == ("2019-01-01", "2019-10-08")
    # The default is the literature's, fixed before either stage was scored.
    assert bench.DEFAULT_METHOD == "mint_shrink"


def test_hierarchy_prints_every_method_on_a_few_test_year_folds(capsys: pytest.CaptureFixture[str]) -> None:
    bench, stage = _bench(), "test2019"
    start = bench.PROTOCOLS[stage][0]
    end = (pd.Timestamp(start) + pd.Timedelta(days=14)).date().isoformat()
    rows = bench.hierarchy("snaive:raw", stage, 28, None, warm_weeks=4, window=(start, end))
    bench.summary(stage, rows)
    out = capsys.readouterr().out
    assert f"Hierarchy ({stage}, 3 folds" in out
    for method in bench.SUMMARY:
        for part in ("total", "areas"):
            row = rows[f"{method}/{part}"]
            assert {"mase7", "mase84", "cov80_7", "cov95_7", "cov80_84", "cov95_84"} <= row.keys()
            assert all(math.isfinite(v) for v in row.values())
        assert f"hierarchy {stage}: {method}" in out
    assert f"hierarchy {stage}: mint_shrink (default) total MASE" in out
