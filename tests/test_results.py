"""Results: documented columns, the summary, and an atomic save/load round trip."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from simplan import SimplanError, load_results

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


@pytest.mark.parametrize("name", list(COLUMNS))
def test_tables_have_the_documented_columns(small_results, name):
    table = small_results.tables()[name]
    assert list(table.columns) == COLUMNS[name]
    assert sorted(table["replication"].unique()) == [0, 1, 2]


def test_warmup_days_are_dropped(small_results):
    assert small_results.daily["day"].min() == 0
    assert small_results.daily["date"].min() == pd.Timestamp("2025-10-01")
    assert (small_results.deals["close_day"].dropna() >= 0).all()
    assert (small_results.deals["created_day"] < 0).any(), "pipeline carried in from the warm-up"


def test_summary_has_the_planners_first_numbers(small_results):
    summary = small_results.summary()["value"]
    p10, p50, p90 = summary["bookings P10"], summary["bookings P50"], summary["bookings P90"]
    assert p10 <= p50 <= p90
    assert p50 == pytest.approx(small_results.runs["bookings"].median())
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

    monkeypatch.setattr(type(small_results), "_write", explode)
    with pytest.raises(OSError, match="disk full"):
        small_results.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_loading_a_directory_that_is_not_a_run(tmp_path):
    with pytest.raises(SimplanError, match="not a simplan run directory"):
        load_results(tmp_path)
