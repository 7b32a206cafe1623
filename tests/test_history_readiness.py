"""What calibration trips on, named before it runs (simplan.history.readiness), and the user
errors that once came out as tracebacks or misleading messages."""

from __future__ import annotations

import pandas as pd
import pytest

from simplan.analysis.calibrate import Calibrator
from simplan.analysis.calibration_report import CalibrationReport
from simplan.errors import SimplanError
from simplan.history import prepare, read_deals, read_opportunities
from simplan.history.readiness import findings

from .conftest import run_cli

HEADER = "deal_id,rep_id,created_date,close_date,amount,outcome\n"


def _write(tmp_path, rows: list[str], name: str = "deals.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows))
    return path


def _deals(reps: int = 4, per_rep: int = 30, months: tuple[int, ...] = (1, 2, 3, 4, 5, 6)):
    """Rows of a plain history: each rep wins every third deal, cycles of 10 to 30 days."""
    rows = []
    for r in range(reps):
        for i in range(per_rep):
            month = months[i % len(months)]
            created = pd.Timestamp(2024, month, 1 + i % 20)
            closed = created + pd.Timedelta(days=10 + i % 21)
            won = i % 3 == 0
            amount = 1000 + 37 * i if won else 0
            outcome = "won" if won else "lost"
            rows.append(
                f"r{r}d{i},rep{r},{created:%Y-%m-%d},{closed:%Y-%m-%d},{amount},{outcome}\n"
            )
        day = months[-1]
        rows += [f"r{r}o{i},rep{r},2024-{day:02d}-{25 + i},,,open\n" for i in range(3)]
    return rows


def test_as_of_that_is_not_a_date_is_a_user_error(tmp_path, capsys):
    path = _write(tmp_path, _deals())
    code, _, stderr = run_cli(capsys, "history", "check", path, "--as-of", "yesterday")
    assert code == 2
    assert "--as-of 'yesterday' is not a date; write it as YYYY-MM-DD" in stderr
    assert "Traceback" not in stderr


def test_day_first_dates_with_a_preset_read_without_blaming_date_format(tmp_path):
    """The maven preset says month-first; a day-first file is detected, not refused as if
    the user had passed --date-format."""
    path = tmp_path / "maven.csv"
    path.write_text(
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
        "a1,Ann,GTX,Acme,Won,20/01/2017,25/02/2017,1000\n"
        "a2,Ann,GTX,Acme,Lost,21/01/2017,26/02/2017,0\n"
        "a3,Bob,GTX,Acme,Engaging,22/03/2017,,\n"
    )
    history = read_opportunities(path, preset="maven_crm", today="2017-12-31")
    assert history.deals["created_date"].iloc[0] == pd.Timestamp("2017-01-20")


def test_missing_owners_and_amounts_are_findings_not_errors(tmp_path):
    rows = _deals()
    rows = [r.replace(",rep1,", ",,") if ",lost" in r else r for r in rows]  # rep1's losses
    rows[0] = rows[0].replace(",1000,", ",,")  # a won deal without an amount
    path = _write(tmp_path, rows)
    with pytest.raises(SimplanError, match=r"'amount' is empty on 1 row \(line 2\) of won deals"):
        read_deals(path)  # a payout ledger still needs every amount
    history = read_opportunities(path, today="2024-12-31")
    prepared = prepare(history)
    found = {f.item: f.text for f in findings(history, prepared)}
    assert set(found) == {"owners missing", "amounts missing"}
    assert (
        "20 of 132 deals (15%) have no owner (share without one: won 0%, lost 25%"
        in (found["owners missing"])
    )
    assert "routed by the fitted routing" in found["owners missing"]
    assert "1 of 40 won deals (2%) have no amount" in found["amounts missing"]
    imputed = prepare(history, impute_amounts=True, seed=3)
    line = imputed.deals.index[imputed.deals["amount_imputed"]]
    assert list(line) == [2]
    assert imputed.deals.loc[2, "amount"] in set(history.deals["amount"].dropna())


def test_quiet_months_and_an_outsized_rep_are_named(tmp_path):
    rows = _deals(reps=5, months=(1, 2, 5, 6))  # nothing opened in March or April
    catch_all = _deals(1, 90, months=(1, 2, 5, 6))
    rows += [r.replace(",rep0,", ",unassigned,").replace("r0", "u0") for r in catch_all]
    history = read_opportunities(_write(tmp_path, rows), today="2024-12-31")
    found = {f.item: f.text for f in findings(history, prepare(history))}
    assert set(found) == {"months without new leads", "one rep with an outsized share"}
    assert (
        "2 month(s) between 2024-01 and 2024-06 have no new opportunity (2024-03, 2024-04)"
        in (found["months without new leads"])
    )
    assert "rep 'unassigned' owns 36% of the owned deals" in found["one rep with an outsized share"]


def test_lost_deals_without_a_date_are_lost_at_an_inferred_date(tmp_path):
    rows = _deals()
    rows = [
        r.replace(r.split(",")[3], "") if r.startswith("r2") and ",lost" in r else r for r in rows
    ]
    history = read_opportunities(_write(tmp_path, rows), today="2024-12-31")
    inferred = history.deals[history.deals["close_inferred"]]
    assert len(inferred) == 20
    dated = history.deals[(history.deals["outcome"] == "lost") & ~history.deals["close_inferred"]]
    median = int((dated["close_date"] - dated["created_date"]).dt.days.median())
    assert ((inferred["close_date"] - inferred["created_date"]).dt.days == median).all()
    found = {f.item: f.text for f in findings(history, prepare(history))}
    assert (
        f"treated as lost at an inferred date, {median} days after"
        in (found["lost deals without a close date"])
    )


def test_all_won_history_calibrates_with_loss_shares(tmp_path):
    rows = [r.replace(",lost", ",won").replace(",0,won", ",1500,won") for r in _deals()]
    history = read_opportunities(_write(tmp_path, rows), today="2024-12-31")
    fitted = Calibrator(periods=2, fit_check_replications=0).fit(history)
    shares = fitted.scenario_data_["funnel"]["loss_stage_shares"]
    assert shares == {"contact": 0.0, "proposal": 0.0, "negotiation": 1.0}


def test_a_plot_that_fails_keeps_the_scenario_and_the_tables(tmp_path, capsys, monkeypatch):
    def broken(self, path):
        raise ValueError("Axis limits cannot be NaN or Inf")

    monkeypatch.setattr(CalibrationReport, "plot", broken)
    out, report = tmp_path / "team.yaml", tmp_path / "report"
    code, stdout, stderr = run_cli(
        capsys, "calibrate", _write(tmp_path, _deals()), "--out", out, "--report", report,
        "--periods", "2", "--fit-check", "0", "--min-rep-deals", "0",
    )  # fmt: skip
    assert code == 0, stderr
    assert out.is_file()
    assert (report / "params.csv").is_file()
    assert not (report / "fit.png").exists()
    assert "fit.png not drawn (ValueError: Axis limits cannot be NaN or Inf)" in stdout


def test_crm_open_stages_are_known_without_a_preset(tmp_path):
    rows = [
        *_deals()[:40],
        "h1,rep0,2024-06-20,,,appointmentscheduled\n",
        "h2,rep1,2024-06-21,,,Contract sent\n",
        "s1,rep2,2024-06-22,,,Proposal/Price Quote\n",
        "s2,rep3,2024-06-23,,,Negotiation/Review\n",
    ]
    history = read_opportunities(_write(tmp_path, rows), today="2024-12-31")
    assert history.deals["outcome"].iloc[-4:].tolist() == ["open"] * 4
