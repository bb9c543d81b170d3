"""`check-published` says what it can derive about why figures differ, and checks the
article's April claims against the month-to-date rows of the same prices (issue 10, item 7)."""

import json
import shutil
from pathlib import Path

import pytest

from surgewatch.cli import main
from surgewatch.core.errors import InputError
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


def test_april_claims_are_checked_against_the_month_to_date(iwm, reference_dir):
    audit = audit_published(iwm, reference_dir / "published_table.csv", None, claims_path=CLAIMS)
    claims = {r[2]: r for r in audit.rows if str(r[0]).startswith("claim")}
    assert {r[0] for r in claims.values()} == {"claim to 2026-04-20"}
    assert {r[1] for r in claims.values()} == {"2026-04"}
    # 12 of the first 13 sessions up: as the article says.
    assert claims["sessions"][3:6] == [13, 13, 0] and not claims["sessions"][-1]
    assert claims["up_sessions"][3:6] == [12, 12, 0] and not claims["up_sessions"][-1]
    # The month to date is +11.83%, not +11.54%; IWM's prior fall -11.19%, not -10.9%.
    assert claims["move"][4] == pytest.approx(11.8347, abs=1e-3) and claims["move"][-1] == "differs by +0.29"
    assert claims["prior_drawdown"][4] == pytest.approx(-11.186, abs=1e-3)
    assert claims["prior_drawdown"][-1] == "differs by -0.29"


def test_a_claim_on_an_unknown_column_is_one_line(iwm, reference_dir, tmp_path):
    claims = tmp_path / "claims.csv"
    claims.write_text("as_of,column,published\n2026-04-20,volume,1\n")
    with pytest.raises(InputError, match="unknown column 'volume'"):
        audit_published(iwm, reference_dir / "published_table.csv", None, claims_path=claims)


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
