"""The long-format contract and the CSV reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from uec.forecast import find_gaps, read_series_csv, validate_long


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "in.csv"
    p.write_text(text)
    return p


def test_single_series_gets_default_id_and_float_y(tmp_path: Path) -> None:
    df = read_series_csv(_write(tmp_path, "ds,y\n2024-01-02,5\n2024-01-01,4\n"), "daily")
    assert list(df.columns) == ["unique_id", "ds", "y"]
    assert df["unique_id"].tolist() == ["series", "series"]
    assert df["ds"].dt.day.tolist() == [1, 2]  # sorted
    assert df["y"].dtype == float


def test_multiple_series_and_extra_columns(tmp_path: Path) -> None:
    text = "unique_id,ds,y,note\nb,2024-01-01,1,x\na,2024-01-01,2,y\na,2024-01-02,3,z\nb,2024-01-02,4,w\n"
    df = read_series_csv(_write(tmp_path, text), "daily")
    assert df["unique_id"].tolist() == ["a", "a", "b", "b"]
    assert df["y"].tolist() == [2.0, 3.0, 1.0, 4.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,y\n2024-01-01,1\n", "missing column(s) ds"),
        ("ds,value\n2024-01-01,1\n", "missing column(s) y"),
        ("ds,y\n2024-01-01,1\nnot-a-date,2\n", "ds row 2: cannot parse 'not-a-date'"),
        ("ds,y\n2024-01-01,1\n2024-01-02,lots\n", "y row 2: 'lots' is not a number"),
        ("ds,y\n2024-01-01,1\n2024-01-02,\n", "y row 2: is missing"),
        ("ds,y\n2024-01-01,1\n2024-01-01,2\n", "duplicate (unique_id, ds) = (series, 2024-01-01"),
        ("ds,y\n2024-01-01,1\n2024-01-05,2\n", "has 3 missing daily step(s), the first at 2024-01-02"),
        ("ds,y\n2024-01-01 10:00,1\n", "daily ds has a time of day"),
        ("ds,y\n", "the series has no rows"),
    ],
)
def test_bad_input_gives_one_line_value_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        read_series_csv(_write(tmp_path, text), "daily")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_series_csv("/nonexistent/x.csv", "daily")


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is empty"):
        read_series_csv(_write(tmp_path, ""), "daily")


def test_gaps_can_be_filled_with_zero(tmp_path: Path) -> None:
    df = read_series_csv(_write(tmp_path, "ds,y\n2024-01-01,1\n2024-01-04,2\n"), "daily", gaps="zero")
    assert df["y"].tolist() == [1.0, 0.0, 0.0, 2.0]


def test_find_gaps_reports_every_missing_step() -> None:
    ds = ["2024-01-01", "2024-01-03", "2024-01-01", "2024-01-02"]
    raw = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "ds": ds, "y": 1})
    df = validate_long(raw, "daily", gaps="zero")
    assert len(find_gaps(df, "daily")) == 0
    holes = find_gaps(raw.assign(ds=pd.to_datetime(raw["ds"])), "daily")
    assert holes["unique_id"].tolist() == ["a"]


def test_hourly_offsets_become_utc(tmp_path: Path) -> None:
    text = "ds,y\n2024-10-27T01:00:00+01:00,1\n2024-10-27T01:00:00+00:00,2\n2024-10-27T02:00:00+00:00,3\n"
    df = read_series_csv(_write(tmp_path, text), "hourly")
    assert [t.isoformat() for t in df["ds"]] == [
        "2024-10-27T00:00:00+00:00",
        "2024-10-27T01:00:00+00:00",
        "2024-10-27T02:00:00+00:00",
    ]


def test_hourly_naive_times_default_to_utc_and_can_be_local(tmp_path: Path) -> None:
    # Local clock over the autumn change: 01:00 occurs twice, in order.
    text = "ds,y\n2024-10-27 00:00,1\n2024-10-27 01:00,2\n2024-10-27 01:00,3\n2024-10-27 02:00,4\n"
    with pytest.raises(ValueError, match="duplicate"):
        read_series_csv(_write(tmp_path, text), "hourly")
    df = read_series_csv(_write(tmp_path, text), "hourly", naive_tz="Europe/London")
    assert df["ds"].dt.hour.tolist() == [23, 0, 1, 2]


def test_hourly_off_the_hour_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not on the hour"):
        read_series_csv(_write(tmp_path, "ds,y\n2024-01-01T00:30:00Z,1\n"), "hourly")


def test_unknown_freq() -> None:
    with pytest.raises(ValueError, match="unknown freq 'weekly'"):
        validate_long(pd.DataFrame({"ds": ["2024-01-01"], "y": [1]}), "weekly")  # type: ignore[arg-type]
