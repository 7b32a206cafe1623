"""Break the model on purpose and check the tests notice: `make mutants`.

Each mutant is a curated breakage of simplan (one or a few exact text replacements) and the
tests that should catch it. The repository is copied once to a temporary directory; each
mutant is applied to that copy, its tests run there with a timeout, and the file is put back
before the next one. The worktree is never edited. A mutant is *caught* when its tests fail,
*survived* when they pass. Prints a table and exits 1 if any mutant survived (2 if a mutant
no longer applies, because the code it breaks has changed).

    .venv/bin/python scripts/mutants.py            # every mutant, in sequence
    .venv/bin/python scripts/mutants.py gate tier  # only mutants whose name contains a word
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 600
IGNORED = (".venv", ".git", "runs", ".pytest_cache", "__pycache__", "*.egg-info", ".ruff_cache")
NO_SHRINK_PLUGIN = """
from hypothesis import Phase, settings

settings.register_profile("mutants", phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.load_profile("mutants")
"""
"""A pytest plugin for the runs here: hypothesis reports a failing example without shrinking
it (shrinking, minutes on the plan's threshold properties, only polishes the report)."""


@dataclass(frozen=True)
class Edit:
    """Replace `old` (which must occur exactly once) by `new` in `path`."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    """A breakage: its edits and the tests (pytest node ids or files) meant to catch it."""

    name: str
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]


def mutant(name: str, path: str, old: str, new: str, *tests: str) -> Mutant:
    return Mutant(name, (Edit(path, old, new),), tests)


PLAN = "simplan/model/plan/components/"
TOUCH_SPEED_IGNORES_EFFORT = (
    Edit(
        "simplan/engines/events.py",
        "self.touch_list = (cal.workday_length / (team.capacity * effort)).tolist()",
        "self.touch_list = (cal.workday_length / team.capacity).tolist()",
    ),
    Edit(
        "simplan/engines/fast/engine.py",
        "duration = cal.workday_length / (team.capacity * effort)",
        "duration = cal.workday_length / team.capacity",
    ),
)
"""Both engines' touch time no longer divided by effort (part of two breakages)."""
T = "tests/test_plan_thresholds.py::"
MUTANTS = [
    # -- the table --------------------------------------------------------------------
    mutant(
        "compare: paired half-width / n instead of / sqrt(n)",
        "simplan/analysis/compare.py",
        "float(t * values.std(ddof=1) / np.sqrt(len(values)))",
        "float(t * values.std(ddof=1) / len(values))",
        "tests/test_intervals.py",
    ),
    mutant(
        "calibration: outcome intervals 10x wider",
        "simplan/analysis/outcomes.py",
        "return float(transform(x[i] - Z95 * se[i])), float(transform(x[i] + Z95 * se[i]))",
        "return float(transform(x[i] - 10 * Z95 * se[i])), float(transform(x[i] + 10 * Z95 * se[i]))",
        "tests/test_intervals.py::test_outcome_intervals_are_the_sampling_error_of_the_data",
    ),
    Mutant(
        "effort recorded but no effect on touches or prospecting",
        (
            Edit(
                "simplan/model/production.py",
                "return np.power(np.maximum(effort, 0.0), elasticity)",
                "return np.ones_like(np.asarray(effort, dtype=float))",
            ),
            *TOUCH_SPEED_IGNORES_EFFORT,
        ),
        ("tests/test_effect_sizes.py",),
    ),
    Mutant(
        "pulled-forward deals not discounted",
        (
            Edit(
                "simplan/engines/events.py",
                "self.book.value[i] *= 1 - self.scenario.behaviour.timing.pull_discount",
                "self.book.value[i] *= 1",
            ),
            Edit(
                "simplan/engines/fast/funnel.py",
                "L.value[i] *= 1 - self.scenario.behaviour.timing.pull_discount",
                "L.value[i] *= 1",
            ),
        ),
        ("tests/test_effect_sizes.py::test_a_pulled_deal_signs_at_the_stated_discount",),
    ),
    mutant(
        "burst leaderboard's effort lift ignored",
        "simplan/model/day.py",
        "lift = board.effort_multiplier if board.enabled and calendar.phase[day] == BURST else 1.0",
        "lift = 1.0",
        "tests/test_levers.py::test_leaderboard_lifts_burst_effort_by_its_multiplier_and_costs_its_prizes",
    ),
    mutant(
        "calibrated scenario's arrivals x 0.85",
        "simplan/analysis/calibrated_scenario.py",
        '"arrivals_per_day": round(row["per_working_day"] * (1 - fit.stale_share), 4),',
        '"arrivals_per_day": round(0.85 * row["per_working_day"] * (1 - fit.stale_share), 4),',
        "tests/test_calibrate.py::test_the_calibrated_scenario_carries_the_fitted_arrivals",
    ),
    mutant(
        "gamma's variability wrong, mean kept (shape 1/cv for 1/cv^2)",
        "simplan/model/distributions.py",
        "shape = 1.0 / self.cv**2",
        "shape = 1.0 / self.cv",
        "tests/test_distribution_spread.py",
    ),
    # -- each plan component's threshold comparison (at or above <-> more than) ----------------
    mutant(
        "tiered commission: a rep on a tier's line is below it",
        PLAN + "pay.py",
        "reached = steps_reached(bookings / target, thresholds)",
        "reached = steps_reached(bookings / target, thresholds * (1 + 1e-6))",
        T + "test_tier_and_bonus_step_start_at_their_threshold_and_at_a_cap",
    ),
    mutant(
        "attainment bonus: a rep on a step's line is below it",
        PLAN + "pay.py",
        "reached = steps_reached(attainment, thresholds)",
        "reached = steps_reached(attainment, thresholds * (1 + 1e-6))",
        T + "test_tier_and_bonus_step_start_at_their_threshold_and_at_a_cap",
    ),
    mutant(
        "gate: closed at its threshold (> for >=)",
        PLAN + "adjust.py",
        "factor = reaches(attainment, self.threshold).astype(float)",
        "factor = exceeds(attainment, self.threshold).astype(float)",
        T + "test_gate_opens_at_its_threshold_on_counted_bookings",
    ),
    mutant(
        "qualifying: minimum bookings must be exceeded (> for >=)",
        PLAN + "adjust.py",
        "ok = reaches(sheet.bookings, self.min_bookings)",
        "ok = exceeds(sheet.bookings, self.min_bookings)",
        T + "test_qualifying_minimum_bookings_is_met_on_the_line",
    ),
    mutant(
        "qualifying: a return rate at the maximum disqualifies (>= for >)",
        PLAN + "adjust.py",
        "ok &= ~exceeds(returned, self.max_return_rate * book.bookings)",
        "ok &= ~reaches(returned, self.max_return_rate * book.bookings)",
        T + "test_qualifying_return_rate_exactly_at_the_maximum_qualifies",
    ),
    mutant(
        "team pool: paid at its threshold (>= for >)",
        PLAN + "pools.py",
        "exceeds(team_bookings, self.threshold * team_target),",
        "reaches(team_bookings, self.threshold * team_target),",
        T + "test_team_pool_needs_more_than_its_threshold",
    ),
    mutant(
        "growth bonus: the minimum growth must be exceeded (> for >=)",
        PLAN + "role.py",
        "paid = eligible & reaches(np.nan_to_num(ratio, nan=-np.inf), 1.0 + self.min_growth)",
        "paid = eligible & exceeds(np.nan_to_num(ratio, nan=-np.inf), 1.0 + self.min_growth)",
        T + "test_growth_bonus_at_exactly_the_minimum_growth",
    ),
    mutant(
        "big-deal bonus: a deal at the minimum qualifies (>= for >)",
        PLAN + "role.py",
        "rows = rows[exceeds(book.deal_amount[rows], self.min_deal)]",
        "rows = rows[reaches(book.deal_amount[rows], self.min_deal)]",
        T + "test_big_deal_must_exceed_the_minimum",
    ),
    mutant(
        "manager bonus: the team attainment must be exceeded (> for >=)",
        PLAN + "role.py",
        "paid = reaches(attainment, self.min_team_attainment)",
        "paid = exceeds(attainment, self.min_team_attainment)",
        T + "test_manager_bonus_paid_at_the_team_attainment",
    ),
    mutant(
        "manager bonus: new-hire growth at the minimum is enough (>= for >)",
        PLAN + "role.py",
        "paid &= exceeds(ratio.ravel(), 1.0 + self.min_new_hire_growth)",
        "paid &= reaches(ratio.ravel(), 1.0 + self.min_new_hire_growth)",
        T + "test_manager_new_hire_growth_must_exceed_its_minimum",
    ),
    # -- the model's other load-bearing rules ---------------------------------------------------
    mutant(
        "response decay: half as steep (after_hours doubled)",
        "simplan/model/leads.py",
        "return (1 - self.loss) ** (hours / self.after_hours)",
        "return (1 - self.loss) ** (hours / (2 * self.after_hours))",
        "tests/test_effect_sizes.py::test_response_decay_loses_its_stated_share_per_after_hours",
    ),
    mutant(
        "common random numbers: one stream shared by every purpose",
        "simplan/model/randomness.py",
        "spawn_key = tuple(seq.spawn_key) + tuple(zlib.crc32(k.encode()) for k in keys)",
        "spawn_key = tuple(seq.spawn_key)",
        "tests/test_randomness.py",
    ),
    mutant(
        "truncation correction: closed-only exports not reweighted",
        "simplan/analysis/calibrate.py",
        "weights = 1.0 / np.maximum(seen, 0.05)",
        "weights = np.ones_like(seen)",
        "tests/test_calibrate.py::test_closed_only_export_is_detected_and_its_arrivals_corrected",
    ),
    mutant(
        "fast engine: touches may run past the end of the working day",
        "simplan/engines/fast/serving.py",
        "if start >= until or start + duration[r] > close:",
        "if start >= until:",
        "tests/test_touch_budget.py",
    ),
    # -- levers and routing --------------------------------------------------------------------
    mutant(
        "strike teams' win uplift ignored",
        "simplan/engines/events.py",
        "uplift = self.strike_uplift if a.support >= 0 else 1.0",
        "uplift = 1.0",
        "tests/test_levers.py::test_strike_teams_win_more_big_deals",
    ),
    mutant(
        "squad first pick ignored",
        "simplan/model/routing.py",
        "if p.squad_first_pick.enabled and state.squad_winner >= 0 and tier in self.first_pick_tiers:",
        "if False:",
        "tests/test_levers.py::test_squad_first_pick_gives_the_weeks_winning_squad_the_a_leads",
    ),
    mutant(
        "mentor pool: the mentor gets no credit",
        "simplan/model/routing.py",
        "cut = share * params.mentor_pool.mentor_credit_share",
        "cut = 0.0",
        "tests/test_levers.py::test_mentor_pool_routes_a_share_of_leads_to_new_hires_and_credits_their_mentors",
    ),
    mutant(
        "relay: closer and first owner's shares swapped",
        "simplan/model/routing.py",
        "parts = [(closer, params.relay.closer_share), (first_owner, 1 - params.relay.closer_share)]",
        "parts = [(closer, 1 - params.relay.closer_share), (first_owner, params.relay.closer_share)]",
        "tests/test_levers.py::test_relay_moves_idle_leads_and_splits_their_credit",
    ),
    mutant(
        "tier priority: A leads routed like any other",
        "simplan/model/routing.py",
        "        if not priority:\n            return least_loaded(state, self.rest)",
        "        if True:\n            return least_loaded(state, self.everyone)",
        "tests/test_levers.py::test_tier_priority_sends_a_leads_to_the_top_sellers",
    ),
    mutant(
        "share routing ignores each rep's weight",
        "simplan/model/routing.py",
        "self.cumulative = np.cumsum(weights) / np.sum(weights)",
        "self.cumulative = np.arange(1, len(weights) + 1) / len(weights)",
        "tests/test_levers.py::test_share_routing_draws_leads_in_proportion_to_capacity",
    ),
    mutant(
        "response red line ignored",
        "simplan/engines/events.py",
        "yield self._request(i, 0 if tier in self.red_line_tiers else 1)",
        "yield self._request(i, 1)",
        "tests/test_levers.py::test_a_response_red_line_answers_a_leads_first",
    ),
    Mutant(
        "close-out offer saves deals for free",
        (
            Edit(
                "simplan/engines/events.py",
                "self.book.lever_cost[i] += self.offer.cost_per_deal",
                "self.book.lever_cost[i] += 0.0",
            ),
            Edit(
                "simplan/engines/fast/funnel.py",
                "L.lever_cost[ids[saved]] += self.offer.cost_per_deal",
                "L.lever_cost[ids[saved]] += 0.0",
            ),
        ),
        ("tests/test_levers.py::test_close_out_offer_saves_late_losses_at_its_cost",),
    ),
    mutant(
        "referral contest: its extra leads never arrive",
        "simplan/model/leads.py",
        "rate = referral.extra_leads_per_day * close_out.astype(float)",
        "rate = 0.0 * close_out.astype(float)",
        "tests/test_levers.py::test_referral_contest_adds_leads_in_the_close_out_and_pays_per_won_referral",
        "tests/test_levers.py::test_retail_month_levers_against_the_same_month_without_them",
    ),
    mutant(
        "production: the stated elasticity ignored (always 1)",
        "simplan/model/production.py",
        "return np.power(np.maximum(effort, 0.0), elasticity)",
        "return np.maximum(effort, 0.0)",
        "tests/test_effect_sizes.py::test_self_sourced_leads_grow_as_effort_to_the_elasticity",
    ),
    Mutant(
        "effort no longer speeds up touches (prospecting kept)",
        (*TOUCH_SPEED_IGNORES_EFFORT,),
        ("tests/test_touch_budget.py",),
    ),
    mutant(
        "myopic effort: an expected ratchet costs nothing",
        "simplan/model/behaviour.py",
        "now = now - params.ratchet.share * above * later",
        "now = now - 0.0 * above * later",
        "tests/test_effect_sizes.py::test_an_expected_ratchet_costs_its_share_of_next_periods_rate",
    ),
    # -- the other intervals --------------------------------------------------------------------
    mutant(
        "compare: Welch half-width without the square root",
        "simplan/analysis/compare.py",
        "return float(stats.t.ppf(0.5 + confidence / 2, df) * np.sqrt(se2))",
        "return float(stats.t.ppf(0.5 + confidence / 2, df) * se2)",
        "tests/test_intervals.py::test_paired_and_independent_half_widths_by_hand",
    ),
    mutant(
        "compare: predictive interval one-sided (5 % to 90 %)",
        "simplan/analysis/compare.py",
        "low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])",
        "low, high = np.quantile(values, [(1 - level) / 2, level])",
        "tests/test_intervals.py::test_compares_printed_intervals_are_the_hand_intervals_of_its_kpis",
    ),
    mutant(
        "arrivals: Poisson interval's upper end one event short",
        "simplan/analysis/fit.py",
        "high = stats.chi2.ppf(0.975, 2 * count + 2) / 2",
        "high = stats.chi2.ppf(0.975, 2 * count) / 2",
        "tests/test_intervals.py::test_poisson_interval_is_garwoods_exact_interval_by_hand",
    ),
    mutant(
        "budget: the budget needed is the median, whatever the confidence",
        "simplan/analysis/budget.py",
        "return float(self.payout.quantile(self.confidence))",
        "return float(self.payout.quantile(0.5))",
        "tests/test_intervals.py::test_budget_quantiles_by_hand",
    ),
]


def copy_repository(destination: Path) -> Path:
    """Copy the worktree (sources, tests, data, scenarios) without the venv or git."""
    target = destination / "repo"
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(*IGNORED))
    (destination / "plugins").mkdir()
    (destination / "plugins" / "mutants_no_shrink.py").write_text(NO_SHRINK_PLUGIN)
    return target


def check_imports_from(copy: Path, python: str) -> None:
    """Refuse to run if `simplan` would be imported from anywhere but the copy."""
    found = subprocess.run(
        [python, "-c", "import simplan, pathlib; print(pathlib.Path(simplan.__file__).resolve())"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=True,
        env=environment(copy),
    ).stdout.strip()
    if not Path(found).is_relative_to(copy.resolve()):
        sys.exit(
            f"simplan imports from {found}, not from the copy {copy}: nothing would be mutated"
        )


def environment(copy: Path) -> dict[str, str]:
    path = os.pathsep.join([str(copy), str(copy.parent / "plugins")])
    return {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}


def apply(copy: Path, edits: tuple[Edit, ...]) -> dict[Path, str]:
    """Apply the edits to the copy; return the original text of each file touched."""
    originals: dict[Path, str] = {}
    for edit in edits:
        path = copy / edit.path
        current = path.read_text()
        originals.setdefault(path, current)
        count = current.count(edit.old)
        if count != 1:
            restore(originals)
            raise LookupError(f"{edit.path}: the text to break occurs {count} times, not once: {edit.old!r}")  # fmt: skip
        path.write_text(current.replace(edit.old, edit.new))
    return originals


def restore(originals: dict[Path, str]) -> None:
    for path, text in originals.items():
        path.write_text(text)


def run_tests(copy: Path, python: str, tests: tuple[str, ...]) -> tuple[str, float]:
    """'passed', 'failed', 'timeout' or 'error' (pytest could not run them: a test id that no
    longer exists) for the tests on the copy, and the seconds taken."""
    started = time.perf_counter()
    command = [python, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    command += ["-p", "mutants_no_shrink", *tests]
    try:
        done = subprocess.run(
            command, cwd=copy, env=environment(copy), capture_output=True, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - started
    # pytest exits 1 when tests fail and 2 when collecting them fails (a mutant that breaks an
    # import); 4 and 5 mean the command or the test ids are wrong, which proves nothing.
    outcome = {0: "passed", 1: "failed", 2: "failed"}.get(done.returncode, "error")
    return outcome, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("words", nargs="*", help="run only mutants whose name contains a word")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip running the tests unmutated first"
    )
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.words or any(w in m.name for w in args.words)]
    python = sys.executable
    rows: list[tuple[str, str, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="simplan-mutants-") as tmp:
        copy = copy_repository(Path(tmp))
        check_imports_from(copy, python)
        if not args.no_baseline:
            tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            outcome, seconds = run_tests(copy, python, tests)
            print(f"unmutated: the {len(tests)} test targets {outcome} in {seconds:.0f} s")
            if outcome != "passed":
                print("the tests fail without any mutant: fix them first", file=sys.stderr)
                return 2
        for m in chosen:
            try:
                originals = apply(copy, m.edits)
            except LookupError as stale:
                print(stale, file=sys.stderr)
                return 2
            try:
                outcome, seconds = run_tests(copy, python, m.tests)
            finally:
                restore(originals)
            if outcome == "error":
                print(f"{m.name}: pytest could not run {' '.join(m.tests)}", file=sys.stderr)
                return 2
            verdict = {"failed": "caught", "timeout": "caught (timeout)"}.get(outcome, "SURVIVED")
            rows.append((m.name, verdict, seconds, " ".join(m.tests)))
            print(f"{verdict:>16}  {seconds:5.0f} s  {m.name}", flush=True)
    print_table(rows)
    return 1 if any(verdict == "SURVIVED" for _, verdict, _, _ in rows) else 0


def print_table(rows: list[tuple[str, str, float, str]]) -> None:
    width = max(len(name) for name, *_ in rows)
    print()
    print(f"{'mutant':<{width}}  {'result':<16}  seconds")
    for name, verdict, seconds, _tests in rows:
        print(f"{name:<{width}}  {verdict:<16}  {seconds:7.0f}")
    caught = sum(verdict != "SURVIVED" for _, verdict, _, _ in rows)
    print(f"\n{caught} of {len(rows)} mutants caught")


if __name__ == "__main__":
    sys.exit(main())
