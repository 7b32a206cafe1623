"""Results: documented columns, the summary, and an atomic save/load round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simplan import SimplanError, load_results, simulate

COLUMNS = {
    "deals": [
        "replication",
        "lead_id",
        "tier",
        "source",
        "rep_id",
        "first_rep_id",
        "created_day",
        "first_response_hours",
        "stage",
        "outcome",
        "close_day",
        "cycle_days",
        "amount",
        "alerts",
        "relays",
        "lever_cost",
        "timing",
    ],
    "credits": ["replication", "lead_id", "rep_id", "share", "amount", "close_day"],
    "daily": [
        "replication",
        "day",
        "date",
        "phase",
        "rep_id",
        "touches",
        "effort",
        "open_pipeline_value",
        "bookings",
        "deals_won",
    ],
    "reps": [
        "replication",
        "rep_id",
        "period",
        "tenure",
        "squad",
        "skill",
        "capacity_touches_per_day",
        "mentor_id",
        "target",
        "bookings",
        "deals_won",
        "attainment",
        "at_target",
    ],
    "runs": [
        "replication",
        "leads",
        "deals_won",
        "win_rate",
        "bookings",
        "alerts",
        "relays",
        "lever_cost",
        "share_at_target",
        "median_first_response_hours",
    ],
}


COLUMNS["statements"] = ["replication", "rep_id", "period", "component", "basis", "amount"]


@pytest.mark.parametrize("name", [n for n in COLUMNS if n != "statements"])
def test_tables_have_the_documented_columns(small_results, name):
    table = small_results.tables()[name]
    assert list(table.columns) == COLUMNS[name]
    assert sorted(table["replication"].unique()) == [0, 1, 2]


def test_without_a_plan_statements_are_empty_with_their_columns(small_results):
    assert small_results.statements.empty
    assert list(small_results.statements.columns) == COLUMNS["statements"]
    assert "payout" not in small_results.runs


def test_with_a_plan_payouts_join_the_tables(small_scenario, tmp_path):
    from simplan.scenario import Scenario, deep_merge

    plan = {
        "clock": "month",
        "components": [
            {"type": "base_salary", "amount": 1000},
            {"type": "base_commission", "rate": 0.1},
        ],
    }
    data = deep_merge(small_scenario.model_dump(by_alias=True, exclude_none=True), {"plan": plan})
    results = simulate(Scenario.model_validate(data), replications=2, workers=1)
    assert list(results.statements.columns) == COLUMNS["statements"]
    reps = results.reps
    assert reps["payout"].to_numpy() == pytest.approx(1000 + 0.1 * reps["bookings"].to_numpy())
    runs = results.runs.set_index("replication")
    assert runs["payout"].to_numpy() == pytest.approx(
        results.statements.groupby("replication")["amount"].sum().to_numpy()
    )
    assert runs["cost_of_sales"].to_numpy() == pytest.approx(
        (runs["payout"] / runs["bookings"]).to_numpy()
    )
    summary = results.summary()["value"]
    assert summary["payout P50"] <= summary["payout P90"] <= summary["payout P99"]
    again = results.save(tmp_path / "run")
    pd.testing.assert_frame_equal(load_results(again).statements, results.statements)


def test_warmup_days_are_dropped(small_results):
    assert small_results.daily["day"].min() == 0
    assert small_results.daily["date"].min() == pd.Timestamp("2025-10-01")
    assert (small_results.deals["close_day"].dropna() >= 0).all()
    assert (small_results.deals["created_day"] < 0).any(), "pipeline carried in from the warm-up"


def test_summary_has_the_planners_first_numbers(small_results):
    summary = small_results.summary()["value"]
    p10, p50, p90 = summary["bookings P10"], summary["bookings P50"], summary["bookings P90"]
    # 3 replications: quantile q sits at position 2 q of the sorted bookings
    low, middle, high = np.sort(small_results.runs["bookings"].to_numpy())
    assert p10 == pytest.approx(low + 0.2 * (middle - low))
    assert p50 == pytest.approx(middle)
    assert p90 == pytest.approx(middle + 0.8 * (high - middle))
    for metric in [
        "win rate A",
        "win rate C",
        "median first response hours A",
        "median cycle days (won)",
        "proposal alerts per replication",
        "share of reps at target",
    ]:
        assert metric in summary.index
    assert 0 < summary["win rate C"] < summary["win rate A"] < 1


def test_save_and_load_give_equal_tables(small_results, tmp_path):
    path = small_results.save(tmp_path / "run")
    again = load_results(path)
    for name, table in small_results.tables().items():
        pd.testing.assert_frame_equal(table, again.tables()[name], obj=name)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["seed"] == 7
    assert manifest["scenario"]["name"] == "small"
    assert len(manifest["scenario_digest"]) == 16
    assert {"simplan", "numpy", "simpy", "pandas"} <= set(manifest["versions"])
    assert set(manifest["timings_seconds"]) == {"setup", "replications_with_tables", "combine"}


def test_non_empty_output_is_refused_unless_forced(small_results, tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(SimplanError, match="not empty"):
        small_results.save(target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    small_results.save(target, force=True)
    assert not (target / "keep.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "no temporary directories left behind"


def test_a_failed_write_leaves_nothing(small_results, tmp_path, monkeypatch):
    def explode(self, tmp):
        (tmp / "deals.parquet").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(type(small_results), "write", explode)
    with pytest.raises(OSError, match="disk full"):
        small_results.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_loading_a_directory_that_is_not_a_run(tmp_path):
    with pytest.raises(SimplanError, match="not a simplan run directory"):
        load_results(tmp_path)


class _Stop(Exception):
    pass


def test_a_run_saved_as_it_goes_keeps_every_finished_batch(tmp_path):
    """simulate(out=...) writes each batch as it finishes: stopped after two batches of two,
    the directory loads as those four replications; a finished run is the saved layout."""
    scenario = "scenarios/proposals/gate80_cap150.yaml"
    run = {"replications": 6, "seed": 4, "workers": 1, "engine": "fast", "batch": 2}

    def stop_after_two_batches(done: int, total: int) -> None:
        if done == 4:
            raise _Stop

    with pytest.raises(_Stop):
        simulate(scenario, **run, out=tmp_path / "stopped", progress=stop_after_two_batches)
    stopped = load_results(tmp_path / "stopped")
    assert stopped.manifest["complete"] is False
    assert stopped.manifest["replications_done"] == 4
    full = simulate(scenario, **run, out=tmp_path / "full")
    for name, table in stopped.tables().items():
        expected = getattr(full, name)
        expected = expected[expected["replication"] < 4].reset_index(drop=True)
        pd.testing.assert_frame_equal(table, expected, obj=name)
    assert not (tmp_path / "full" / "parts").exists()
    assert (tmp_path / "full" / "runs.parquet").is_file()
    loaded = load_results(tmp_path / "full")
    assert loaded.manifest["complete"] is True
    for name, table in full.tables().items():
        pd.testing.assert_frame_equal(getattr(loaded, name), table, obj=name)
    with pytest.raises(SimplanError, match="pass --force"):
        simulate(scenario, **run, out=tmp_path / "full")
    again = simulate(scenario, **run, out=tmp_path / "full", force=True)
    pd.testing.assert_frame_equal(load_results(tmp_path / "full").runs, again.runs)
