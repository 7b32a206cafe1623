"""Issue 10 on many teams of the ground-truth world: how far the predicted plan effect is from
the truth, and whether the miss is the behaviour fit's or the model's.

    python benchmarks/world_teams.py [SEED ...]     (default: teams 0-5; ~6 min a team)

For each team (`make_world("current", seed)`: other reps, quotas and history), the planner's
commands as `tests/world_check.py` runs them (calibrate on 2025 under `current`, compare
2026Q1 under `current` and `proposal`, 100 replications), and the same compare with the
behaviour fixed at the world's own mechanism in simplan's terms
(`tests.worlds.export.simplan_behaviour`, no parameter draws). When the fitted team misses
and the fixed one does not, the fit is what is wrong: the history led it elsewhere.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.world_check import compare, predict  # noqa: E402
from tests.worlds import make_world  # noqa: E402
from tests.worlds.export import simplan_behaviour  # noqa: E402

REPLICATIONS = 100
FITTED = ("production.self_sourced_share", "production.closing_elasticity",
          "behaviour.cost_curvature", "behaviour.pipeline_sight")  # fmt: skip


def with_behaviour(team: Path, values: dict[str, float], out: Path) -> Path:
    """The calibrated scenario `team` with the behaviour `values` (key -> value) and no
    parameter draws, written to `out`."""
    data = yaml.safe_load(team.read_text())
    data.pop("uncertainty", None)
    for key, value in values.items():
        block, name = key.split(".")
        data[block][name] = value
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def effects(folder: Path) -> pd.DataFrame:
    """compare's proposal - current (difference, pi_low, pi_high) by metric."""
    return pd.read_parquet(folder / "differences.parquet").set_index("metric")


def one_team(seed: int, directory: Path) -> dict:
    """The fitted and the world's own behaviour's plan effects for team `seed`, with the truth."""
    prediction = predict(directory, "current", seed=seed, replications=REPLICATIONS)
    team = yaml.safe_load((directory / "team.yaml").read_text())
    own = simplan_behaviour(make_world("current", seed))
    fixed = with_behaviour(directory / "team.yaml", own, directory / "team_own.yaml")
    compare(directory, fixed, "cmp_own", REPLICATIONS, 2)
    fitted, at_own = effects(directory / "cmp"), effects(directory / "cmp_own")
    row = {"team": seed}
    for key in FITTED:
        block, name = key.split(".")
        row[name] = team[block][name]
    for metric in ("bookings", "payout"):
        truth = prediction.true_effect(metric)
        row[f"{metric} truth"] = truth
        row[f"{metric} fitted"] = fitted.loc[metric, "difference"]
        row[f"{metric} fitted / truth"] = fitted.loc[metric, "difference"] / truth
        row[f"{metric} in 90 % PI"] = (
            fitted.loc[metric, "pi_low"] <= truth <= fitted.loc[metric, "pi_high"]
        )
        row[f"{metric} own"] = at_own.loc[metric, "difference"]
        row[f"{metric} own / truth"] = at_own.loc[metric, "difference"] / truth
    return row


def main(seeds: list[int]) -> None:
    rows = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as folder:
            rows.append(one_team(seed, Path(folder)))
        print(pd.DataFrame(rows[-1:]).to_string(index=False, float_format="{:,.3f}".format))
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 220)
    print("\nplan effect, proposal - current (own: the behaviour fixed at the world's own)")
    print(table.to_string(index=False, float_format="{:,.2f}".format))
    for metric in ("bookings", "payout"):
        print(
            f"{metric}: fitted / truth mean {table[f'{metric} fitted / truth'].mean():.2f} "
            f"(range {table[f'{metric} fitted / truth'].min():.2f}.."
            f"{table[f'{metric} fitted / truth'].max():.2f}); own / truth mean "
            f"{table[f'{metric} own / truth'].mean():.2f}; truth in the 90 % PI for "
            f"{int(table[f'{metric} in 90 % PI'].sum())} of {len(table)} teams"
        )


if __name__ == "__main__":
    main([int(seed) for seed in sys.argv[1:]] or list(range(6)))
