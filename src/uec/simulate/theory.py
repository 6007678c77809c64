"""Queueing formulas the engine is checked against (and that planners can use for quick answers).

Rates and durations may be in any time unit as long as it is the same one throughout; the engine
uses minutes.

>>> m = mmc(arrival_rate=10 / 60, mean_service=25.0, servers=5)
>>> round(m.mean_wait, 2), round(m.utilisation, 4)
(18.6, 0.8333)
>>> round(erlang_b(servers=5, offered_load=10 / 60 * 25.0), 4)
0.2139
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["QueueMetrics", "erlang_b", "erlang_c", "mmc", "mmc_abandonment"]


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state measures of one queue.

    ``mean_wait`` is the mean time in queue over *all* arrivals (zero for those served at once; up to
    the moment of leaving for those who abandon); ``mean_time_in_system`` adds the mean service of
    those served.
    """

    p_wait: float
    mean_wait: float
    mean_time_in_system: float
    utilisation: float
    p_abandon: float = 0.0


def erlang_b(servers: int, offered_load: float) -> float:
    """Probability an arrival finds all ``servers`` busy in a loss system (M/M/c/c)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability an arrival waits in M/M/c (needs ``offered_load < servers``)."""
    if offered_load >= servers:
        return 1.0
    b = erlang_b(servers, offered_load)
    return servers * b / (servers - offered_load * (1 - b))


def mmc(arrival_rate: float, mean_service: float, servers: int) -> QueueMetrics:
    """M/M/c in steady state (Erlang C)."""
    a = arrival_rate * mean_service
    if a >= servers:
        raise ValueError("unstable: offered load is at least the number of servers")
    c = erlang_c(servers, a)
    wait = c * mean_service / (servers - a)
    return QueueMetrics(c, wait, wait + mean_service, a / servers)


def mmc_abandonment(arrival_rate: float, mean_service: float, servers: int, mean_patience: float) -> QueueMetrics:
    """M/M/c+M (Erlang A): exponential patience; waiting patients leave at rate 1/``mean_patience``.

    Solved numerically as a birth-death chain truncated where the tail is negligible.
    """
    lam, mu, theta = arrival_rate, 1 / mean_service, 1 / mean_patience
    # Unnormalised log-probabilities, summed in log space to avoid overflow for large loads.
    logp = [0.0]
    n = 0
    while True:
        n += 1
        death = mu * min(n, servers) + theta * max(n - servers, 0)
        logp.append(logp[-1] + math.log(lam / death))
        if n > servers and logp[-1] < max(logp) - 50:
            break
    lp = np.asarray(logp)
    p = np.exp(lp - lp.max())
    p /= p.sum()
    states = np.arange(p.size)
    queue = np.maximum(states - servers, 0)
    lq = float((p * queue).sum())
    p_wait = float(p[servers:].sum())
    p_abandon = theta * lq / lam
    wait = lq / lam  # Little's law over all arrivals
    busy = float((p * np.minimum(states, servers)).sum())
    return QueueMetrics(p_wait, wait, wait + (1 - p_abandon) * mean_service, busy / servers, p_abandon)
