"""`check-published` says what it can derive about why figures differ, and checks the
article's April claims against the month-to-date rows of the same prices (issue 10, item 7)."""

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from surgewatch.cli import main
from surgewatch.core.errors import InputError
from surgewatch.study.claims import claim_rows
from surgewatch.study.published import audit_published
from surgewatch.sources.csv_files import read_price_csv
from tests.conftest import REPO

CLAIMS = REPO / "examples" / "article_claims.csv"


@pytest.fixture(scope="module")
def iwm(prices_dir):
    return read_price_csv(prices_dir / "IWM.csv", "IWM")


def test_the_summary_is_the_tables_own_so_the_flags_explain_the_difference(iwm, reference_dir):
    audit = audit_published(iwm, reference_dir / "published_table.csv", reference_dir / "published_summary.csv")
    assert audit.notes == (
        "the published summary (average, median, win_rate, sharpe) equals the summary of its own 13 rows: "
        "the difference from ours comes from the 10 flagged cells (2011-10, 2019-01, 2020-11, 2022-10) "
        "and the missing 2003-05",
    )


def test_a_summary_not_computed_from_the_table_is_said_to_be_so(iwm, reference_dir, tmp_path):
    table = shutil.copy(reference_dir / "published_table.csv", tmp_path / "published_table.csv")
    summary = (reference_dir / "published_summary.csv").read_text().replace("average_pct,1.71,", "average_pct,3.33,")
    (tmp_path / "published_summary.csv").write_text(summary)
    audit = audit_published(iwm, Path(table), tmp_path / "published_summary.csv")
    assert audit.notes == ("the published summary is not the summary of its own 13 rows: average fwd_1m differ",)


def claims_of(iwm, prices_dir, path=CLAIMS) -> list[list[object]]:
    return claim_rows(path, "IWM", iwm, lambda t: read_price_csv(prices_dir / f"{t}.csv", t), 0.10)


def test_april_claims_are_checked_against_the_month_to_date(iwm, prices_dir):
    claims = {r[2]: r for r in claims_of(iwm, prices_dir)}
    assert {r[0] for r in claims.values()} == {"claim to 2026-04-20"}
    assert {r[1] for r in claims.values()} == {"2026-04"}
    # 12 of the first 13 sessions up: as the article says.
    assert claims["sessions"][3:6] == [13, 13, 0] and not claims["sessions"][-1]
    assert claims["up_sessions"][3:6] == [12, 12, 0] and not claims["up_sessions"][-1]
    # The month to date is +11.83%, not +11.54%; IWM's prior fall -11.19%, not -10.9%.
    assert claims["move"][4] == pytest.approx(11.8347, abs=1e-3) and claims["move"][-1] == "differs by +0.29"
    assert claims["prior_drawdown"][4] == pytest.approx(-11.186, abs=1e-3)
    assert claims["prior_drawdown"][-1] == "differs by -0.29"
    # The correction is the Russell 2000's in the article: RUT's own, from RUT's prices.
    assert claims["RUT prior_drawdown"][4] == pytest.approx(-11.209, abs=1e-3)


def test_since_claims_are_the_return_from_the_last_close_before(iwm, prices_dir):
    """Hand-computed from the CSVs: RUT's close on 2026-04-20 over its close on 2025-07-31
    (the last session before 2025-08-01), less 1, flagged beyond 0.5 pp."""
    claims = {r[2]: r for r in claims_of(iwm, prices_dir)}
    for ticker, published in (("RUT", 28.0), ("SPY", 14.0), ("QQQ", 16.0)):
        closes = read_price_csv(prices_dir / f"{ticker}.csv", ticker).select("date", "close")
        start = closes.filter(pl.col("date") < dt.date(2025, 8, 1))["close"][-1]
        end = closes.filter(pl.col("date") <= dt.date(2026, 4, 20))["close"][-1]
        row = claims[f"{ticker} since 2025-08-01"]
        assert row[3:5] == [published, pytest.approx((end / start - 1) * 100, abs=1e-9)]
        assert row[-1] == (f"differs by {row[5]:+.2f}" if abs(row[5]) > 0.5 else "")


def test_a_since_claim_within_half_a_point_is_not_flagged(iwm, prices_dir, tmp_path):
    claims = tmp_path / "claims.csv"
    claims.write_text("kind,ticker,since,as_of,published\nsince,RUT,2025-08-01,2026-04-20,26.7\n")
    [row] = claims_of(iwm, prices_dir, claims)
    assert abs(row[5]) < 0.5 and row[-1] == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("as_of,column,published\n2026-04-20,volume,1\n", "unknown column 'volume'"),
        ("kind,as_of,published\nrumour,2026-04-20,1\n", "unknown kind 'rumour' (one of month, since)"),
        ("kind,since,as_of,published\nsince,August,2026-04-20,1\n", "since 'August' is not a date"),
    ],
)
def test_a_bad_claim_is_one_line(iwm, prices_dir, tmp_path, text, message):
    claims = tmp_path / "claims.csv"
    claims.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)):
        claims_of(iwm, prices_dir, claims)


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_the_note_goes_with_the_table_and_beside_csv_to_stderr(capsys, prices_dir, reference_dir, fmt):
    argv = ["check-published", "--ticker", "IWM", "--table", str(reference_dir / "published_table.csv")]
    code = main([*argv, "--prices", str(prices_dir / "IWM.csv"), "--claims", str(CLAIMS), "--format", fmt])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    note = "note: the published summary (average, median, win_rate, sharpe) equals the summary of its own 13 rows"
    assert note in (out if fmt == "table" else err)
    assert "claim to 2026-04-20" in out


def test_claims_in_json_stay_parseable(capsys, prices_dir, reference_dir):
    argv = ["check-published", "--ticker", "IWM", "--table", str(reference_dir / "published_table.csv")]
    main([*argv, "--prices", str(prices_dir / "IWM.csv"), "--claims", str(CLAIMS), "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert any(r["check"] == "claim to 2026-04-20" and r["column"] == "up_sessions" for r in rows)
