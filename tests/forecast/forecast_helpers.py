"""Synthetic series for the forecast tests (a uniquely named module: conftest names collide across test folders)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def hourly_series(start: str, end: str, seed: int = 0, uid: str | None = None) -> pd.DataFrame:
    """Poisson counts on a UTC hourly grid with a local daily cycle."""
    ds = pd.date_range(pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC"), freq="h")
    local_hour = ds.tz_convert("Europe/London").hour.to_numpy()
    rate = 6.0 + 4.0 * np.sin(2 * np.pi * (local_hour - 6) / 24)
    y = np.random.default_rng(seed).poisson(rate).astype(float)
    df = pd.DataFrame({"ds": ds, "y": y})
    if uid is not None:
        df.insert(0, "unique_id", uid)
    return df
