"""Reading an opportunity history for calibration: presets, censoring, the anomaly and tier
rules, every validation error, and `simplan history check`."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from simplan.errors import SimplanError
from simplan.history import (
    AnomalyRule,
    TierRule,
    apply_anomaly_rule,
    assign_tiers,
    history_summary,
    prepare,
    read_opportunities,
    read_products,
    read_roster_table,
)

from .conftest import DATA, run_cli

SAMPLE = DATA / "maven_crm" / "sales_pipeline.csv"
TEAMS = DATA / "maven_crm" / "sales_teams.csv"
PRODUCTS = DATA / "maven_crm" / "products.csv"
HEADER = "deal_id,rep_id,created_date,close_date,amount,outcome\n"
GOOD = (
    "d1,ann,2024-01-02,2024-01-20,1000,won\n"
    "d2,ann,2024-01-03,2024-01-25,0,lost\n"
    "d3,bob,2024-01-04,2024-02-10,2500,won\n"
    "d4,bob,2024-02-01,,,open\n"
)


def write(tmp_path, text: str, name: str = "deals.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def simplan(*args):
    return subprocess.run(
        [sys.executable, "-c", "from simplan.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_maven_preset_reads_the_sample_with_censored_open_deals():
    history = read_opportunities(SAMPLE, preset="maven_crm", roster=TEAMS, products=PRODUCTS)
    raw = pd.read_csv(SAMPLE)
    deals = history.deals
    assert len(deals) == len(raw)
    counts = deals["outcome"].value_counts()
    assert counts["open"] == raw["deal_stage"].isin(["Engaging", "Prospecting"]).sum()
    assert deals.loc[deals["outcome"] == "open", "close_date"].isna().all()
    engaged = pd.to_datetime(raw["engage_date"], format="%m/%d/%Y")
    assert (
        deals["created_date"]
        .reset_index(drop=True)
        .equals(engaged.astype(deals["created_date"].dtype))
    )
    assert history.observed_from == pd.Timestamp("2017-03-01")
    assert history.as_of == max(deals["created_date"].max(), deals["close_date"].max())
    assert len(history.roster) == 35
    assert history.roster["team"].notna().all()
    assert any("no created date" in note for note in history.notes)


SALESFORCE_API = (
    "Id,OwnerId,CreatedDate,CloseDate,Amount,StageName,IsWon,IsClosed\n"
    "006A,005X,2024-01-02T10:00:00.000Z,2024-01-20,1000,Closed Won,true,true\n"
    "006B,005X,2024-01-03T11:00:00.000Z,2024-01-25,800,Custom Dead,false,true\n"
    "006C,005Y,2024-01-04T09:00:00.000Z,2024-02-10,2500,Signed Off,true,true\n"
    "006D,005Y,2024-02-01T09:00:00.000Z,2030-06-30,900,Proposal/Price Quote,false,false\n"
)
SALESFORCE_REPORT = (
    "Opportunity ID,Opportunity Owner,Created Date,Close Date,Amount,Stage\n"
    "A1,Ann Lee,1/2/2024,1/20/2024,1000,Closed Won\n"
    "A2,Ann Lee,1/3/2024,1/25/2024,800,Closed Lost\n"
    "A3,Bob Day,1/4/2024,2/10/2024,2500,Closed Won\n"
    "A4,Bob Day,2/1/2024,6/30/2030,900,Negotiation/Review\n"
)
HUBSPOT = (
    "Record ID,Deal Name,Deal owner,Create date,Close date,Amount,Deal stage\n"
    "11,x,Ann Lee,2024-01-02 10:00,2024-01-20 12:00,1000,Closed won\n"
    "12,y,Ann Lee,2024-01-03 10:00,2024-01-25 12:00,800,Closed lost\n"
    "13,z,Bob Day,2024-01-04 10:00,2024-02-10 12:00,2500,Closed won\n"
    "14,w,Bob Day,2024-02-01 10:00,,900,Contract sent\n"
)
ZOHO = (
    "Record Id,Deal Owner,Created Time,Closing Date,Amount,Stage,Account Name\n"
    "z1,Ann Lee,2024-01-02 10:00:00,2024-01-20,1000,Closed Won,Acme\n"
    "z2,Ann Lee,2024-01-03 10:00:00,2024-01-25,800,Closed-Lost to Competition,Acme\n"
    "z3,Bob Day,2024-01-04 10:00:00,2024-02-10,2500,Closed Won,Initech\n"
    "z4,Bob Day,2024-02-01 10:00:00,2024-03-30,900,Identify Decision Makers,Initech\n"
)


@pytest.mark.parametrize(
    ("preset", "text"),
    [
        ("salesforce", SALESFORCE_API),
        ("salesforce", SALESFORCE_REPORT),
        ("hubspot", HUBSPOT),
        ("zoho", ZOHO),
    ],
)
def test_presets_read_each_crm(tmp_path, preset, text):
    history = read_opportunities(write(tmp_path, text), preset=preset, today="2024-06-30")
    deals = history.deals
    assert deals["outcome"].tolist() == ["won", "lost", "won", "open"]
    assert deals["amount"].tolist()[:3] == [1000, 800, 2500]
    assert deals["created_date"].dt.normalize().tolist()[0] == pd.Timestamp("2024-01-02")
    assert pd.isna(deals["close_date"].iloc[3]), "an open deal's expected close is ignored"
    assert deals["rep_id"].nunique() == 2


def test_map_overrides_a_preset_and_adds_labels(tmp_path):
    text = HUBSPOT.replace("Contract sent", "Waiting").replace("Deal owner", "Sales rep")
    path = write(tmp_path, text)
    with pytest.raises(SimplanError, match=r"preset hubspot: no rep_id column.*--map rep_id="):
        read_opportunities(path, preset="hubspot")
    with pytest.raises(SimplanError, match=r"'Waiting'.*--map open="):
        read_opportunities(path, preset="hubspot", mapping={"rep_id": "Sales rep"})
    history = read_opportunities(
        path, preset="hubspot", mapping={"rep_id": "Sales rep", "open": "Waiting"}
    )
    assert history.deals["outcome"].tolist() == ["won", "lost", "won", "open"]


def test_unknown_preset_suggests_the_nearest():
    with pytest.raises(SimplanError, match=r"'hubspt' is not a preset; did you mean 'hubspot'"):
        read_opportunities(SAMPLE, preset="hubspt")


def test_plain_mapping_without_preset(tmp_path):
    path = write(tmp_path, HEADER.replace("created_date", "opened") + GOOD.replace("d4", "d4"))
    with pytest.raises(SimplanError, match=r"no created-date column.*--map created_date="):
        read_opportunities(path)
    history = read_opportunities(path, mapping={"created_date": "opened"})
    assert history.deals["outcome"].tolist() == ["won", "lost", "won", "open"]
    assert history.as_of == pd.Timestamp("2024-02-10")


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ("d9,ann,2024-01-09,2024-01-05,10,won\n", r"'close_date' is before column 'created_date' on 1 row \(line 6\)"),
        ("d9,ann,2024-01-09,2031-01-05,10,won\n", r"'close_date' lies in the future .* on 1 row \(line 6\)"),
        ("d9,ann,2031-01-09,,,open\n", r"'created_date' lies in the future .* on 1 row \(line 6\)"),
        ("d9,ann,,2024-01-05,10,lost\n", r"'created_date' is empty on 1 row \(line 6\) of closed deals"),
        ("d9,ann,2024-01-01,2024-01-05,0,won\n", r"'amount' is 0 on 1 row \(line 6\) of won deals"),
        ("d9,ann,2024-01-01,2024-01-05,-4,lost\n", r"'amount' is negative on 1 row \(line 6\)"),
        ("d1,ann,2024-01-01,2024-01-05,4,lost\n", r"repeats 1 id\(s\) on 2 rows \(lines 2, 6\)"),
        ("d9,ann,2024-13-01,2024-01-05,4,lost\n", r"'created_date' is not a date .* \(line 6\)"),
        ("d9,ann,2024-01-01,2024-01-05,4,Maybe\n", r"labels simplan does not know: 'Maybe' on 1 row \(line 6\)"),
        ("d9,ann,2024-01-01,2024-01-05,\"1.200,50\",won\nd10,ann,2024-01-01,2024-01-05,\"1,200.50\",won\n", r"mixes decimal commas .* on 2 rows \(lines 6, 7\), e.g. '1.200,50'"),
        ("d9,ann,2024-01-01,2024-01-05,$1200,won\nd10,ann,2024-01-01,2024-01-05,900 €,won\n", r"mixes currencies \(\$, €\)"),
        ("d9,ann,2024-01-01,2024-01-05,12 euros,won\n", r"'amount' is not a number on 1 row \(line 6\), e.g. '12 euros'"),
    ],
)  # fmt: skip
def test_each_validation_error_names_column_and_line(tmp_path, rows, fragment):
    path = write(tmp_path, HEADER + GOOD + rows)
    with pytest.raises(SimplanError, match=fragment) as info:
        read_opportunities(path, today="2024-06-30")
    assert str(info.value).startswith(str(path))


def test_salesforce_flags_must_agree(tmp_path):
    text = SALESFORCE_API.replace("Closed Won,true,true\n006B", "Closed Won,true,false\n006B")
    with pytest.raises(SimplanError, match=r"'IsWon' \(is_won\) is true while .*line 2"):
        read_opportunities(write(tmp_path, text), preset="salesforce", today="2024-06-30")
    text = SALESFORCE_API.replace("Closed Won,true,true", "Closed Won,perhaps,true")
    with pytest.raises(SimplanError, match=r"not yes/no on 1 row \(line 2\)"):
        read_opportunities(write(tmp_path, text), preset="salesforce", today="2024-06-30")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the file is empty"),
        (HEADER, "has a header but no rows"),
        (HEADER.replace(",", "|") + GOOD.replace(",", "|"), "pipe-separated"),
        ("deal_id,rep_id,close_date\nd1,a,2024-01-05\n", r"no column 'amount'"),
        (HEADER + "d1,ann,2024-01-02,,,open\nd2,bob,2024-01-03,,,open\n", r"every deal in column 'outcome' is open \(2 rows, lines 2..3\)"),
        (HEADER + "d1,ann,2024-01-02,2024-01-04,0,lost\n", r"no won deal in column 'outcome'"),
    ],
)  # fmt: skip
def test_bad_files(tmp_path, text, fragment):
    with pytest.raises(SimplanError, match=fragment):
        read_opportunities(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "amounts", "said"),
    [
        (HEADER.replace(",", ";") + GOOD.replace(",", ";").replace("2500", "2.500,50"),
         [1000, 0, 2500.5], "'2.500,50' read as 2500.5 (',' decimals, '.' thousands)"),
        (HEADER.replace(",", ";") + GOOD.replace(",", ";").replace("1000", "1,5"),
         [1.5, 0, 2500], "'1,5' read as 1.5 (',' decimals, '.' thousands)"),
        (HEADER.replace(",", "\t") + GOOD.replace(",", "\t").replace("2500", "2,500"),
         [1000, 0, 2500], "'2,500' read as 2500 ('.' decimals, ',' thousands)"),
        (HEADER + GOOD.replace("2500", '"$2,500.75"').replace("1000", "$1000"),
         [1000, 0, 2500.75], "currency '$' dropped; '.' decimals, ',' thousands"),
        (HEADER + GOOD.replace("2500", '"EUR 2\u00a0500"'), [1000, 0, 2500], "currency 'EUR'"),
        (HEADER + GOOD.replace("2500", "(2500)"), None, "'amount' is negative"),
    ],
)  # fmt: skip
def test_amounts_as_exports_write_them(tmp_path, text, amounts, said):
    """Semicolon- and tab-separated files are read; money text is read by the one decimal
    convention its column shows (a ;-separated file defaults to decimal commas), and said."""
    path = write(tmp_path, text)
    if amounts is None:
        with pytest.raises(SimplanError, match=said):
            read_opportunities(path, today="2024-06-30")
        return
    history = read_opportunities(path, today="2024-06-30")
    closed = history.deals[history.deals["outcome"] != "open"]
    assert closed["amount"].tolist() == pytest.approx(amounts)
    assert any(said in note for note in history.notes), history.notes


def test_exact_copies_totals_times_and_excel_dates(tmp_path):
    """Rows exported twice are dropped, as is a spreadsheet's TOTAL line; a time of day after
    a day-first date is dropped; Excel serial days are read as dates; each is said."""
    text = (
        HEADER + GOOD.replace("2024-01-20", "20.01.2024 09:30").replace("2024-01-25", "25.01.2024")
        .replace("2024-02-10", "10.02.2024").replace("2024-01-02", "02.01.2024")
        .replace("2024-01-03", "03.01.2024").replace("2024-01-04", "04.01.2024")
        .replace("2024-02-01", "01.02.2024")
        + "d3,bob,04.01.2024,10.02.2024,2500,won\n,TOTAL,,,3500,\n"
    )  # fmt: skip
    history = read_opportunities(write(tmp_path, text), today="2024-06-30")
    assert history.deals["deal_id"].tolist() == ["d1", "d2", "d3", "d4"]
    assert history.deals["close_date"].iloc[0] == pd.Timestamp("2024-01-20")
    notes = " ".join(history.notes)
    assert "1 row (line 6) repeat an earlier row cell for cell" in notes
    assert "1 row (line 7) without a deal id read 'Total'" in notes
    serial = (
        HEADER + "d1,ann,45293,45311,1000,won\nd2,ann,45294,45316,0,lost\nd3,bob,45295,,,open\n"
    )
    history = read_opportunities(write(tmp_path, serial), today="2024-06-30")
    assert history.deals["created_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-02", "2024-01-03", "2024-01-04"]  # fmt: skip
    assert "read as Excel serial days (45292 = 2024-01-01)" in " ".join(history.notes)


def test_time_of_day_counts_as_its_day(tmp_path):
    """ISO timestamps (Pipedrive) are cut to their day, so a deal opened at 10:00 on the export
    date is inside the export's last day, and ages are whole days."""
    text = HEADER + GOOD.replace("2024-01-20", "2024-01-20 16:45:10").replace(
        "2024-02-01", "2024-02-10 10:00:00")  # fmt: skip
    history = read_opportunities(write(tmp_path, text), today="2024-06-30")
    assert history.as_of == pd.Timestamp("2024-02-10")
    assert (history.deals["created_date"] == history.deals["created_date"].dt.normalize()).all()
    assert "dates carry a time of day" in " ".join(history.notes)


def test_encodings(tmp_path):
    text = HEADER + GOOD.replace("ann", "Zoë")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(text.encode("utf-16"))
    assert "Zoë" in set(read_opportunities(utf16).deals["rep_id"])
    latin = tmp_path / "latin.csv"
    latin.write_bytes(text.encode("cp1252"))
    assert "Zoë" in set(read_opportunities(latin).deals["rep_id"])
    binary = tmp_path / "raw.csv"
    binary.write_bytes(text.encode("utf-16-le"))
    with pytest.raises(SimplanError, match="UTF-16 without a byte-order mark"):
        read_opportunities(binary)


def test_until_turns_later_outcomes_back_to_open(tmp_path):
    history = read_opportunities(write(tmp_path, HEADER + GOOD))
    cut = history.until("2024-01-31")
    deals = cut.deals.set_index("deal_id")
    assert deals["outcome"].to_dict() == {"d1": "won", "d2": "lost", "d3": "open"}
    assert pd.isna(deals.loc["d3", "close_date"])
    assert cut.as_of == pd.Timestamp("2024-01-31")
    with pytest.raises(SimplanError, match="no deal closed on or before 2024-01-10"):
        history.until("2024-01-10")


def _deals(n_reps: int = 3, per_rep: int = 12) -> pd.DataFrame:
    rows = []
    for r in range(n_reps):
        for i in range(per_rep):
            won = i % 2 == 0
            rows.append(
                {
                    "deal_id": f"r{r}d{i}",
                    "rep_id": f"rep{r}",
                    "outcome": "won" if won else "lost",
                    "amount": 100.0 + 10 * i if won else 0.0,
                    "created_date": pd.Timestamp("2024-01-01"),
                    "close_date": pd.Timestamp("2024-02-01"),
                }
            )
    frame = pd.DataFrame(rows)
    frame.index += 2
    return frame


def test_anomaly_rule_removes_and_reports():
    deals = _deals()
    deals.loc[2, "amount"] = 1e7  # an extra-zeros typo
    thin = _deals(1, 4).assign(rep_id="newbie", deal_id=lambda f: "n" + f["deal_id"])
    thin.index += 100
    deals = pd.concat([deals, thin])
    deals["returned"] = False
    deals.loc[4, "returned"] = True
    kept, removed = apply_anomaly_rule(deals, AnomalyRule(amount_quantile=0.9))
    assert removed["line"].tolist() == [2, 102, 103, 104, 105]
    assert "won amount above 3 x the 90.0% quantile" in removed["reason"].iloc[0]
    assert "rep has 4 closed deal(s), fewer than 10" in removed["reason"].iloc[1]
    assert kept.loc[4, "outcome"] == "lost"
    assert kept.attrs["returned_as_lost"] == 1
    kept, removed = apply_anomaly_rule(
        deals,
        AnomalyRule(
            amount_multiple=1e9, median_multiple=1e9, min_closed_deals_per_rep=0,
            returned_as_lost=False,
        ),
    )  # fmt: skip
    assert removed.empty
    assert kept.loc[4, "outcome"] == "won"


def test_anomaly_rule_finds_an_outlier_among_few_known_amounts():
    """With a handful of amounts the 99.9 % quantile is the outlier itself: the median rule
    still removes a 50,000,000 deal where the median is 50,000."""
    deals = _deals()
    deals.loc[deals["outcome"] == "won", "amount"] = 50_000.0
    deals.loc[2, "amount"] = 5e7
    _kept, removed = apply_anomaly_rule(deals, AnomalyRule(min_closed_deals_per_rep=0))
    assert removed["line"].tolist() == [2]
    assert removed["reason"].iloc[0] == "won amount above 100 x the median (5,000,000)"


def test_tier_rules():
    deals = _deals()
    deals["product"] = [["basic", "pro", "MG Special", "GTXPro"][k // 2 % 4] for k in range(36)]
    price = deals["product"].map({"basic": 100, "pro": 500, "MG Special": 50, "GTXPro": 900})
    deals["amount"] = price.where(deals["outcome"] == "won", 0.0)
    tier, text, table = assign_tiers(deals, TierRule())
    assert "product's price (median won amount" in text
    assert set(tier) <= {"A", "B", "C"}
    assert tier.groupby(deals["product"]).nunique().max() == 1, "a product never splits"
    prices = pd.DataFrame(
        {"product": ["GTX Pro", "MG Special", "basic", "pro"], "price": [9, 1, 2, 5]}
    )
    prices["key"] = prices["product"].str.lower().str.replace(" ", "")
    tier, text, _ = assign_tiers(deals, TierRule(), prices)
    assert "price list" in text
    assert tier[deals["product"] == "GTXPro"].eq("A").all()
    assert tier[deals["product"] == "MG Special"].eq("C").all()
    by_amount = deals.drop(columns="product").assign(amount=lambda f: f["amount"] + 1)
    tier, text, table = assign_tiers(by_amount, TierRule())
    assert text.startswith("tiers from deal amounts")
    assert list(table["tier"]) == ["A", "B", "C"]
    none = deals.drop(columns="product")
    tier, text, _ = assign_tiers(none, TierRule())
    assert set(tier) == {"A"}
    assert text.startswith("one tier")
    tier, text, _ = assign_tiers(deals.assign(tier=["x", "y"] * 18), TierRule())
    assert set(tier) == {"x", "y"}
    assert "tier column" in text
    with pytest.raises(SimplanError, match="tier rule 'column' needs a tier column"):
        assign_tiers(none, TierRule(method="column"))


def test_side_tables(tmp_path):
    roster = read_roster_table(TEAMS)
    assert roster.columns.tolist() == ["rep_id", "team", "region", "hire_date", "quota"]
    assert roster["team"].nunique() == 6
    assert roster["region"].nunique() == 3
    products = read_products(PRODUCTS)
    assert "gtxpro" in set(products["key"])
    bad = write(tmp_path, "who,team\nann,x\n", "roster.csv")
    with pytest.raises(SimplanError, match="no rep column"):
        read_roster_table(bad)
    bad = write(tmp_path, "product,price\nx,-1\n", "prices.csv")
    with pytest.raises(SimplanError, match=r"not > 0 on 1 row \(line 2\)"):
        read_products(bad)


def test_summary_states_the_rules():
    history = read_opportunities(SAMPLE, preset="maven_crm", products=PRODUCTS)
    prepared = prepare(history, AnomalyRule(min_closed_deals_per_rep=5))
    rows = dict(history_summary(history, prepared))
    assert rows["tier rule"].startswith("tiers from the product's price (price list)")
    assert "created_date=engage_date" in rows["columns"]
    assert "censored" in rows["open (censored)"]
    assert "fewer than 5 closed deals" in rows["anomaly rule"]
    assert "rep has" in rows["removed"]


def test_cli_history_check(tmp_path, capsys):
    code, stdout, stderr = run_cli(
        capsys, "history", "check", SAMPLE, "--preset", "maven_crm", "--products", PRODUCTS
    )
    assert code == 0, stderr
    assert "no problems" in stdout
    assert "tier rule" in stdout
    code, _, stderr = run_cli(
        capsys, "history", "check", SAMPLE, "--preset", "maven_crm", "--tiers", "price"
    )
    assert code == 2
    assert "tier rule" in stderr
    bad = write(tmp_path, HEADER + GOOD + "d9,ann,2024-01-09,2024-01-05,10,won\n")
    done = simplan("history", "check", bad)  # the installed entry point: exit code 2
    assert done.returncode == 2
    assert "is before column 'created_date' on 1 row (line 6)" in done.stderr


def test_unknown_stage_labels_get_a_map_under_the_outcome_their_words_suggest(tmp_path):
    rows = (
        "d9,ann,2024-01-01,2024-01-05,4,Deal Signed\n"
        "d10,ann,2024-01-01,2024-01-06,0,Dead\n"
        "d11,ann,2024-01-01,,,Demo booked\n"
    )
    with pytest.raises(SimplanError) as info:
        read_opportunities(write(tmp_path, HEADER + GOOD + rows), today="2024-06-30")
    hint = "e.g. --map won='Deal Signed' --map lost='Dead' --map open='Demo booked')"
    assert hint in str(info.value)
