"""Where forecasting work runs: serially, on local processes, or on a Dask cluster.

The same seam as the simulation's replications (:mod:`uec.simulate.runner`): work is split into
deterministic tasks handed to a ``concurrent.futures.Executor``, so a backtest or a store
refresh gives identical results whichever executor runs it. A Dask cluster is reached through
``distributed.Client(address).get_executor()``, which is such an executor.

>>> with forecast_executor() as ex:
...     ex is None
True
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

__all__ = ["forecast_executor"]


@contextmanager
def forecast_executor(workers: int | None = None, dask: str | None = None) -> Iterator[Executor | None]:
    """An executor for forecasting tasks: a Dask cluster's at ``dask`` (``tcp://host:8786``),
    else ``workers`` local processes when more than one, else ``None`` (run serially).

    ``OSError`` with a one-line message when the Dask scheduler cannot be reached.
    """
    if dask:
        from distributed import Client

        try:
            client = Client(dask, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise OSError(f"cannot reach the Dask scheduler at {dask}: {exc}".splitlines()[0]) from None
        try:
            yield client.get_executor()  # type: ignore[no-untyped-call]
        finally:
            client.close()  # type: ignore[no-untyped-call]
    elif workers is not None and workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            yield pool
    else:
        yield None
