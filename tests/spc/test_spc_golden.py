"""Golden test: one real hospital's monthly 4-hour performance, 2015-05 to 2024-05.

The limits are recomputed here with plain numpy, independently of ``uec.spc``'s helpers, and must
agree to 1e-9. The data are a copy in tests/data/spc (see its README.md: NHS England statistics
under the Open Government Licence v3.0, via the autospc R package).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from uec.spc import (
    AssuranceIcon,
    Direction,
    Series,
    SpecialCause,
    VariationIcon,
    XmROptions,
    XmRResult,
    get_ruleset,
    xmr,
)

CSV = Path(__file__).parents[1] / "data" / "spc" / "ed_attendances_monthly.csv"
TOL = 1e-9
COVID = 58  # 2020-03-31


def load() -> tuple[list[str], npt.NDArray[np.float64]]:
    table = np.genfromtxt(CSV, delimiter=",", names=True, dtype=None, encoding="utf-8")
    months = [str(m) for m in table["month_end_date"]]
    # The README warns percent_in_4h disagrees with the counts; use the counts.
    performance = 100.0 * table["within_4h"].astype(float) / table["att_all"].astype(float)
    return months, performance


def expected_lines(x: npt.NDArray[np.float64], screen: bool = False) -> dict[str, float]:
    mean = float(np.mean(x))
    mr = np.abs(np.diff(x))
    amr = float(np.mean(mr))
    if screen:
        amr = float(np.mean(mr[mr < 3.267 * amr]))
    return {
        "mean": mean,
        "mean_moving_range": amr,
        "lower": mean - 2.66 * amr,
        "upper": mean + 2.66 * amr,
        "near_lower": mean - 2.66 * 2 / 3 * amr,
        "near_upper": mean + 2.66 * 2 / 3 * amr,
    }


def assert_period(chart: XmRResult, k: int, expected: dict[str, float]) -> None:
    lim = chart.periods[k].limits
    for name, value in expected.items():
        assert getattr(lim, name) == pytest.approx(value, abs=TOL), name


def test_fixture_is_the_documented_file() -> None:
    months, x = load()
    assert len(x) == 109
    assert (months[0], months[COVID], months[-1]) == ("2015-05-31", "2020-03-31", "2024-05-31")
    assert x[0] == pytest.approx(100 * 11848 / 12178)


@pytest.mark.parametrize("ruleset_id", ["mdc-2018", "mdc-2023"])
@pytest.mark.parametrize("screen", [False, True])
def test_whole_series_limits(ruleset_id: str, screen: bool) -> None:
    _, x = load()
    chart = xmr(
        [float(v) for v in x],
        XmROptions(direction=Direction.HIGHER_IS_BETTER, screen_outliers=screen),
        ruleset=get_ruleset(ruleset_id),
    )
    expected = expected_lines(x, screen)
    assert_period(chart, 0, expected)
    # Rule 1 checked independently too: strictly beyond the limits.
    outside = (x > expected["upper"]) | (x < expected["lower"])
    assert [p.outside_limits for p in chart.points] == outside.tolist()


def test_rebased_at_covid_limits() -> None:
    months, x = load()
    chart = xmr(
        Series([float(v) for v in x], labels=months),
        XmROptions(direction=Direction.HIGHER_IS_BETTER, rebase_at=[COVID]),
        ruleset=get_ruleset("mdc-2018"),
    )
    assert_period(chart, 0, expected_lines(x[:COVID]))
    assert_period(chart, 1, expected_lines(x[COVID:]))
    assert chart.points[COVID].label == "2020-03-31"
    assert chart.points[COVID].moving_range is None


def test_baseline_of_two_years() -> None:
    _, x = load()
    chart = xmr([float(v) for v in x], XmROptions(baseline=24), ruleset=get_ruleset("mdc-2018"))
    assert_period(chart, 0, expected_lines(x[:24]))


def test_shift_against_independent_run_lengths() -> None:
    # Rule 2 by plain run-length encoding of sign(x - mean) with numpy.
    _, x = load()
    chart = xmr([float(v) for v in x], ruleset=get_ruleset("mdc-2018"))
    sign = np.sign(x - np.mean(x))
    expected = np.zeros(len(x), dtype=bool)
    start = 0
    for i in range(1, len(x) + 1):
        if i == len(x) or sign[i] != sign[start]:
            if sign[start] != 0 and i - start >= 7:
                expected[start:i] = True
            start = i
    assert [p.shift for p in chart.points] == expected.tolist()


def test_summary_icons_against_the_95_percent_standard() -> None:
    # Performance fell far below the 95% standard: the latest months sit in a long run below the
    # mean (concern, low) and the target is above the upper limit (consistently failing).
    _, x = load()
    chart = xmr(
        [float(v) for v in x],
        XmROptions(direction=Direction.HIGHER_IS_BETTER, target=95.0),
        ruleset=get_ruleset("mdc-2023"),
    )
    assert chart.latest.special_cause is SpecialCause.CONCERN
    assert chart.variation_icon is VariationIcon.CONCERN_LOW
    assert chart.assurance_icon is AssuranceIcon.FAIL
    assert chart.periods[0].limits.upper < 95.0
