"""The model description: validation, compilation, and the shape of results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from uec.simulate import (
    EXIT,
    Branch,
    Deterministic,
    Empirical,
    Exponential,
    Model,
    ModelError,
    Next,
    Node,
    PatientClass,
    PoissonArrivals,
    Resource,
    ScheduledArrivals,
    erlang_b,
    erlang_c,
    mmc,
    mmc_abandonment,
    simulate,
)


def one_node(**node_kwargs: object) -> Model:
    node = Node("ed", Exponential(10.0), **node_kwargs)  # type: ignore[arg-type]
    return Model(nodes=[node], arrivals=[PoissonArrivals(5.0, to="ed")], horizon=1440.0)


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Model(nodes=[], arrivals=[PoissonArrivals(1.0, to="a")], horizon=10.0),
        lambda: Model(nodes=[Node("a", Exponential(1.0))], arrivals=[], horizon=10.0),
        lambda: Model(nodes=[Node("a", Exponential(1.0))], arrivals=[PoissonArrivals(1.0, to="b")], horizon=10.0),
        lambda: Model(nodes=[Node("a", Exponential(1.0))], arrivals=[PoissonArrivals(1.0, to="a")], horizon=-1.0),
        lambda: Model(
            nodes=[Node("a", Exponential(1.0))], arrivals=[PoissonArrivals(1.0, to="a")], horizon=10.0, until=5.0
        ),
        lambda: Model(
            nodes=[Node("a", Exponential(1.0)), Node("a", Exponential(1.0))],
            arrivals=[PoissonArrivals(1.0, to="a")],
            horizon=10.0,
        ),
        lambda: one_node(resource="nobody"),
        lambda: one_node(routing=Next("nowhere")),
        lambda: one_node(routing=Branch({EXIT: 0.5, "ed": 0.4})),
        lambda: one_node(buffer=-1),
        lambda: Model(  # running until everyone has left, but nobody can leave
            nodes=[Node("loop", Exponential(1.0), routing=Next("loop"))],
            arrivals=[PoissonArrivals(1.0, to="loop")],
            horizon=10.0,
            until=math.inf,
        ),
        lambda: Model(  # class b arrives but the node has no service time for it
            classes=[PatientClass("a"), PatientClass("b")],
            nodes=[Node("ed", {"a": Exponential(1.0)})],
            arrivals=[PoissonArrivals(1.0, to="ed", classes={"a": 0.5, "b": 0.5})],
            horizon=10.0,
        ),
        lambda: Model(  # class b is routed to majors, which has no service time for it
            classes=[PatientClass("a"), PatientClass("b")],
            nodes=[
                Node("triage", Exponential(1.0), routing=Next("majors")),
                Node("majors", {"a": Exponential(1.0)}),
            ],
            arrivals=[PoissonArrivals(1.0, to="triage", classes={"a": 0.5, "b": 0.5})],
            horizon=10.0,
        ),
        lambda: Model(
            nodes=[Node("ed", Exponential(1.0))],
            arrivals=[PoissonArrivals(1.0, to="ed", classes={"nobody": 1.0})],
            horizon=10.0,
        ),
        lambda: Model(
            nodes=[Node("ed", Exponential(1.0), Resource("x", 1)), Node("ed2", Exponential(1.0), Resource("x", 2))],
            arrivals=[PoissonArrivals(1.0, to="ed")],
            horizon=10.0,
        ),
    ],
)
def test_inconsistent_models_are_rejected(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError):
        bad().compile()


def test_per_class_mappings_only_need_classes_that_come() -> None:
    model = Model(
        classes=[PatientClass("ambulance"), PatientClass("walk_in")],
        nodes=[
            Node("front door", Deterministic(1.0), routing={"ambulance": Next("majors"), "walk_in": Next("utc")}),
            Node("majors", {"ambulance": Exponential(30.0)}, routing={"ambulance": Next("ward")}),
            Node("utc", {"walk_in": Exponential(15.0)}),
            Node("ward", Exponential(600.0), Resource("bed", 10)),
        ],
        arrivals=[PoissonArrivals(6.0, to="front door", classes={"ambulance": 0.3, "walk_in": 0.7})],
        horizon=1440.0,
    )
    r = simulate(model, seed=1)
    walk_in = r.patient_class[r.patient] == 1
    assert not np.any(r.at("majors") & walk_in) and np.any(r.at("utc") & walk_in)


def test_results_as_tables_and_arrays() -> None:
    model = Model(
        classes=[PatientClass("walk_in")],
        nodes=[
            Node("triage", Deterministic(5.0), Resource("nurse", 1), routing=Next("treatment")),
            Node("treatment", Empirical([10.0, 20.0]), Resource("doctor", 1)),
        ],
        arrivals=[ScheduledArrivals([0.0, 1.0], to="triage", classes="walk_in")],
        horizon=10.0,
        until=math.inf,
    )
    r = simulate(model, seed=0)
    table = r.to_pandas()
    assert list(table.columns) == [
        "patient", "stage", "node", "patient_class", "patient_arrival",
        "arrive", "start", "end", "depart", "service", "outcome", "reneged",
    ]  # fmt: skip
    assert isinstance(table["node"].dtype, pd.CategoricalDtype)
    assert table["outcome"].astype(str).eq("done").all()
    starts = r.stage_array("start")
    assert starts.shape == (2, 2)
    np.testing.assert_allclose(starts[:, 0], [0.0, 5.0])
    np.testing.assert_allclose(r.exit_time(), r.stage_array("depart")[:, 1])
    np.testing.assert_allclose(r.waits("triage"), [0.0, 4.0])
    assert set(r.utilisation()) == {"nurse", "doctor"}
    arrow = r.to_arrow()
    assert arrow.num_rows == 4 and arrow.column_names == list(table.columns)
    np.testing.assert_array_equal(r.stage_array("reneged"), [[0.0, 0.0], [0.0, 0.0]])
    with pytest.raises(KeyError):
        r.node_id("resus")


def test_run_stopping_early_leaves_times_unrecorded() -> None:
    model = Model(
        nodes=[Node("ed", Deterministic(10.0), Resource("cubicle", 1))],
        arrivals=[ScheduledArrivals([0.0, 1.0, 2.0], to="ed")],
        horizon=5.0,
        until=12.0,
    )
    r = simulate(model, seed=0)
    outcomes = r.to_pandas().sort_values("patient")["outcome"].astype(str).tolist()
    assert outcomes == ["done", "in_service", "waiting"]
    assert np.isnan(r.exit_time()[1:]).all()
    assert r.stop == 12.0
    assert r.utilisation()["cubicle"] == pytest.approx(1.0)


def test_unlimited_nodes_are_pure_delays() -> None:
    r = simulate(one_node(), seed=2)
    np.testing.assert_array_equal(r.start, r.arrive)
    assert r.utilisation() == {}


def test_theory_functions() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    m1 = mmc(0.5, 1.0, 1)
    assert m1.mean_wait == pytest.approx(1.0)  # rho / (mu - lambda)
    # With very patient patients Erlang A tends to Erlang C.
    a = mmc_abandonment(10 / 60, 25.0, 5, 1e7)
    assert a.mean_wait == pytest.approx(mmc(10 / 60, 25.0, 5).mean_wait, rel=1e-3)
    assert a.p_abandon < 1e-5
    with pytest.raises(ValueError):
        mmc(1.0, 1.0, 1)
