"""Reading deal history: the maven CRM sample maps and parses; bad files are named with the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simplan.errors import SimplanError
from simplan.history import (
    parse_mapping,
    quota_targets,
    read_deals,
    read_history,
    read_targets,
)
from simplan.model.plan import Plan, compute_payouts
from simplan.model.plan.inputs import LEDGER_COLUMNS

from .conftest import DATA

SAMPLE = DATA / "maven_crm" / "sales_pipeline.csv"
FULL = DATA / "maven_crm_full" / "sales_pipeline.csv"
MAVEN = [
    "deal_id=opportunity_id",
    "rep_id=sales_agent",
    "close_date=close_date",
    "amount=close_value",
    "outcome=deal_stage",
]


def write(tmp_path, text: str, name: str = "deals.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def check_against_pandas(path) -> pd.DataFrame:
    """read_deals agrees with a plain pandas reading of the maven file."""
    ledger = read_deals(path, parse_mapping(MAVEN))
    raw = pd.read_csv(path)
    won = raw[raw["deal_stage"] == "Won"]
    assert list(ledger.columns) == list(LEDGER_COLUMNS)
    assert len(ledger) == len(won)
    assert ledger["amount"].sum() == pytest.approx(won["close_value"].sum())
    assert (ledger["amount"] == ledger["deal_amount"]).all()
    assert (ledger["credit_share"] == 1.0).all()
    assert ledger["deal_id"].tolist() == won["opportunity_id"].tolist()
    assert ledger["rep_id"].tolist() == won["sales_agent"].tolist()
    expected = pd.to_datetime(won["close_date"], format="%m/%d/%Y")
    assert (ledger["close_date"].to_numpy() == expected.to_numpy()).all()
    assert (ledger.index == won.index + 2).all(), "the index is the file's line number"
    return ledger


def test_maven_sample_maps_and_parses():
    ledger = check_against_pandas(SAMPLE)
    assert len(ledger) == 145
    assert ledger["amount"].sum() == 285_700


def test_full_maven_file():
    ledger = check_against_pandas(FULL)
    assert len(ledger) == 4238  # the data README's counts
    assert ledger["amount"].sum() == 10_005_534


def test_history_keeps_every_outcome():
    history = read_history(SAMPLE, parse_mapping(MAVEN))
    stages = pd.read_csv(SAMPLE)["deal_stage"].value_counts()
    counts = history["outcome"].value_counts()
    assert counts["won"] == stages["Won"]
    assert counts["lost"] == stages["Lost"]
    assert counts["open"] == stages["Engaging"] + stages["Prospecting"]
    assert history.loc[history["outcome"] == "open", "close_date"].isna().all()


def test_parquet_reads_like_csv(tmp_path):
    raw = pd.read_csv(SAMPLE)
    raw["close_date"] = pd.to_datetime(raw["close_date"], format="%m/%d/%Y")
    raw.to_parquet(tmp_path / "deals.parquet")
    ledger = read_deals(tmp_path / "deals.parquet", parse_mapping(MAVEN))
    assert ledger["amount"].sum() == 285_700
    assert ledger.index[0] == raw.index[raw["deal_stage"] == "Won"][0] + 1  # 1-based rows


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], {}),
        (["deal_id=opportunity_id", " rep_id = owner "], {"deal_id": "opportunity_id", "rep_id": "owner"}),
        (["won=Signed", "won=Booked"], {"won": "Signed,Booked"}),
    ],
)  # fmt: skip
def test_parse_mapping(pairs, expected):
    assert parse_mapping(pairs) == expected


@pytest.mark.parametrize(
    ("pairs", "fragment"),
    [
        (["deal_id"], "write canonical=source"),
        (["deal_idd=x"], "did you mean 'deal_id'"),
        (["amount=a", "amount=b"], "already mapped to 'a'"),
    ],
)
def test_parse_mapping_errors(pairs, fragment):
    with pytest.raises(SimplanError, match=fragment):
        parse_mapping(pairs)


def test_outcome_labels_case_insensitive_and_mapped(tmp_path):
    path = write(
        tmp_path,
        "deal_id,rep_id,close_date,amount,stage\n"
        "d1,a,2024-01-05,10,Closed Won\nd2,a,2024-01-06,20,closed-won\nd3,a,2024-01-07,30,WON\n"
        "d4,a,2024-01-08,0,Closed Lost\nd5,a,,,Open\nd6,b,2024-01-09,40,Signed\n",
    )
    history = read_history(path, parse_mapping(["outcome=stage", "won=Signed"]))
    assert history["outcome"].tolist() == ["won", "won", "won", "lost", "open", "won"]
    with pytest.raises(SimplanError, match=r"labels simplan does not know: 'Signed'.*line 7"):
        read_history(path, {"outcome": "stage"})


def test_without_outcome_column_every_row_is_won(tmp_path):
    path = write(tmp_path, "deal_id,rep_id,close_date,amount\nd1,a,2024-01-05,10\n")
    assert read_deals(path)["amount"].tolist() == [10.0]
    empty = write(tmp_path, "deal_id,rep_id,close_date,amount\nd1,a,,10\n", "open.csv")
    with pytest.raises(SimplanError, match=r"every row counts as won.*--map outcome="):
        read_deals(empty)


def test_split_deals_credit_each_rep(tmp_path):
    path = write(
        tmp_path,
        "deal_id,rep_id,close_date,amount,credit_share\n"
        "d1,a,2024-01-05,1000,0.6\nd1,b,2024-01-05,1000,0.4\nd2,b,2024-01-09,500,\n",
    )
    ledger = read_deals(path)
    assert ledger["amount"].tolist() == [600.0, 400.0, 500.0]
    assert ledger["deal_amount"].tolist() == [1000.0, 1000.0, 500.0]
    plan = Plan.model_validate({"components": [{"type": "base_commission", "rate": 0.1}]})
    targets = quota_targets(ledger, "month", 1000)
    totals = compute_payouts(ledger, targets, None, plan).totals.set_index("rep_id")
    assert totals["payout"].to_dict() == pytest.approx({"a": 60.0, "b": 90.0})


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ("d1,a,2024-01-05,1000,0.6\nd1,b,2024-01-05,1000,0.3\n", "do not sum to 1"),
        ("d1,a,2024-01-05,1000,60\n", "write 60% as 0.6"),
        ("d1,a,2024-01-05,1000,0.5\nd1,b,2024-01-05,900,0.5\n", "whole deal's value"),
        ("d1,a,2024-01-05,1000,0.5\nd1,a,2024-01-05,1000,0.5\n", "one row per deal and rep"),
    ],
)
def test_bad_splits(tmp_path, rows, fragment):
    path = write(tmp_path, "deal_id,rep_id,close_date,amount,credit_share\n" + rows)
    with pytest.raises(SimplanError, match=fragment):
        read_deals(path)


@pytest.mark.parametrize(
    ("dates", "date_format", "first"),
    [
        (["2024-01-05", "2024-02-28"], None, "2024-01-05"),
        (["2024-01-05 10:30", "2024-02-28T08:00:00Z"], None, "2024-01-05 10:30"),
        (["05/01/2024", "28/02/2024"], None, "2024-01-05"),  # day first: 28 is no month
        (["01/05/2024", "02/28/2024"], None, "2024-01-05"),
        (["05.01.2024", "28.02.2024"], None, "2024-01-05"),
        (["05/01/2024", "06/02/2024"], "%d/%m/%Y", "2024-01-05"),
        (["05-Jan-2024", "28-Feb-2024"], "%d-%b-%Y", "2024-01-05"),
    ],
)
def test_date_formats(tmp_path, dates, date_format, first):
    rows = "".join(f"d{i},a,{d},10\n" for i, d in enumerate(dates))
    path = write(tmp_path, "deal_id,rep_id,close_date,amount\n" + rows)
    ledger = read_deals(path, date_format=date_format)
    assert ledger["close_date"].iloc[0] == pd.Timestamp(first)


def test_ambiguous_dates_ask_for_a_format(tmp_path):
    path = write(
        tmp_path, "deal_id,rep_id,close_date,amount\nd1,a,05/01/2024,1\nd2,a,06/02/2024,1\n"
    )
    with pytest.raises(SimplanError, match=r"read both as %m/%d/%Y and %d/%m/%Y"):
        read_deals(path)


def test_wrong_date_format_suggests_the_right_one(tmp_path):
    path = write(tmp_path, "deal_id,rep_id,close_date,amount\nd1,a,3/14/2017,1\n")
    with pytest.raises(
        SimplanError, match=r"'%d/%m/%Y' given by --date-format.*--date-format %m/%d/%Y"
    ):
        read_deals(path, date_format="%d/%m/%Y")


def test_all_problems_reported_at_once(tmp_path):
    path = write(
        tmp_path,
        "deal_id,rep_id,close_date,amount\nd1,a,2024-01-05,-5\nd1,a,2024-99-05,1O\n\nd3,a,2024-01-05,\n",
    )
    with pytest.raises(SimplanError) as info:
        read_deals(path)
    message = str(info.value)
    assert message.startswith(f"{path}: 5 problems:")
    for fragment in (
        "negative on 1 row (line 2)",
        "is not a number on 1 row (line 3)",
        "not a date",
        "repeats 1 id(s) on 2 rows (lines 2, 3)",
        "'amount' is empty on 1 row (line 5) of won deals",  # line 4 is blank
    ):
        assert fragment in message


def test_quota_targets_cover_every_period_between_first_and_last_close():
    ledger = pd.DataFrame(
        {"rep_id": ["a", "b"], "close_date": pd.to_datetime(["2024-01-31", "2024-04-01"])}
    )
    targets = quota_targets(ledger, "month", 500)
    assert len(targets) == 2 * 4
    assert targets["period"].astype(str).unique().tolist() == [
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
    ]
    assert (targets["target"] == 500).all()
    quarters = quota_targets(ledger, "quarter", 500)
    assert quarters["period"].astype(str).unique().tolist() == ["2024Q1", "2024Q2"]
    with pytest.raises(SimplanError, match=r"quota = 0; .*> 0"):
        quota_targets(ledger, "month", 0)


def test_read_targets(tmp_path):
    path = write(tmp_path, "rep_id,period,target\na,2024-01,100\na,2024-02,200\n", "t.csv")
    targets = read_targets(path, "month")
    assert targets["period"].tolist() == ["2024-01", "2024-02"]  # the plan clock's labels
    assert np.allclose(targets["target"], [100, 200])
    bad = write(tmp_path, "rep_id,period,target\na,Jan 2024x,100\na,2024-02,0\n", "bad.csv")
    with pytest.raises(SimplanError) as info:
        read_targets(bad, "month")
    assert "'period' is not a month on 1 row (line 2)" in str(info.value)
    assert "'target' is empty or not > 0 on 1 row (line 3)" in str(info.value)
