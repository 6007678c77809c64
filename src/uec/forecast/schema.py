"""The forecast tables' DDL (``forecast_runs``, ``forecast_series``, ``forecast_values``): the same
statements on both engines, run on first use by :mod:`uec.forecast.runs`.

>>> value_column("q0.975")
'q0_975'
>>> VALUE_COLUMNS[0]
'q0_025'
"""

from __future__ import annotations

from uec.forecast.quantiles import QUANTILE_COLUMNS

__all__ = ["RUN_DDL", "VALUE_COLUMNS", "value_column"]


def value_column(quantile_column: str) -> str:
    """The stored name of a quantile column (SQL identifiers cannot hold a dot).

    >>> value_column("q0.10")
    'q0_10'
    """
    return quantile_column.replace(".", "_")


#: The stored quantile columns of ``forecast_values``, in :data:`QUANTILE_COLUMNS` order.
VALUE_COLUMNS = [value_column(c) for c in QUANTILE_COLUMNS]

RUN_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS forecast_runs (
        run_id VARCHAR NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        model VARCHAR NOT NULL,
        freq VARCHAR NOT NULL,
        horizon BIGINT NOT NULL,
        origin TIMESTAMP WITH TIME ZONE,
        n_series BIGINT NOT NULL,
        n_failed BIGINT NOT NULL,
        source VARCHAR NOT NULL,
        UNIQUE (run_id)
    )""",
    """CREATE TABLE IF NOT EXISTS forecast_series (
        run_id VARCHAR NOT NULL,
        unique_id VARCHAR NOT NULL,
        model_used VARCHAR,
        n_obs BIGINT NOT NULL,
        first_ds TIMESTAMP WITH TIME ZONE,
        last_ds TIMESTAMP WITH TIME ZONE,
        error VARCHAR,
        backtest_origins BIGINT NOT NULL,
        mase DOUBLE PRECISION,
        coverage_80 DOUBLE PRECISION,
        coverage_95 DOUBLE PRECISION,
        crps DOUBLE PRECISION
    )""",
    "CREATE TABLE IF NOT EXISTS forecast_values (\n"
    "        run_id VARCHAR NOT NULL,\n"
    "        unique_id VARCHAR NOT NULL,\n"
    "        ds TIMESTAMP WITH TIME ZONE NOT NULL,\n"
    "        mean DOUBLE PRECISION NOT NULL,\n"
    + ",\n".join(f"        {c} DOUBLE PRECISION NOT NULL" for c in VALUE_COLUMNS)
    + "\n    )",
)
