"""`--prices FILE.csv` whose name is another ticker's symbol is refused, not relabelled."""

import shutil

import pytest

from surgewatch.cli import main
from surgewatch.core.tickers import looks_like_symbol

REFUSED = "error: --prices IWM.csv looks like IWM's prices, not SPY's: pass --ticker IWM, or rename the file\n"


@pytest.mark.parametrize(
    "command",
    [
        ["study", "--ticker", "SPY"],
        ["analogs", "--ticker", "SPY"],
        ["check-published", "--ticker", "SPY", "--table", "published_table.csv"],
    ],
)
def test_another_tickers_file_is_refused_in_one_line(capsys, prices_dir, command):
    code = main([*command, "--prices", str(prices_dir / "IWM.csv")])
    out, err = capsys.readouterr()
    assert (code, out, err) == (2, "", REFUSED)


@pytest.mark.parametrize("name", ["prices.csv", "iwm_2024.csv", "iwm.csv", "SPY.csv"])
def test_a_name_that_is_no_other_symbol_is_accepted(capsys, prices_dir, tmp_path, name):
    path = tmp_path / name
    shutil.copy(prices_dir / "IWM.csv", path)
    code = main(["study", "--ticker", "SPY", "--prices", str(path), "--as-of", "2026-04-20", "--format", "csv"])
    out, err = capsys.readouterr()
    assert code == 0 and out.startswith("section,"), err


def test_rut_csv_holds_the_index():
    assert looks_like_symbol("RUT") and looks_like_symbol("^RUT") and looks_like_symbol("BRK-B")
    assert not any(looks_like_symbol(s) for s in ("prices", "iwm_2024", "iwm", "IWM 2024"))
