"""A `--fred` context series is refreshed by the nightly flow with the prices, in the
same published version; FRED failing leaves the series as stored and says so."""

from surgewatch.cli import main
from surgewatch.flows.refresh import refresh
from tests.context.fake_fred import fake_fred  # noqa: F401  (the fixture)
from tests.flows.conftest import night, query

FIRST = "observation_date,FEDFUNDS\n2026-02-01,3.64\n2026-03-01,3.63\n"
LATER = FIRST + "2026-04-01,3.50\n"


def test_the_night_refreshes_fred_series_in_its_own_version(env, fake_fred, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("SURGEWATCH_FRED_URL", fake_fred.url)
    fake_fred.series["FEDFUNDS"] = FIRST
    refresh(tickers=["IWM"], as_of=night("2026-04-16"))
    assert main(["context", "add", "fedfunds", "--fred", "FEDFUNDS"]) == 0
    capsys.readouterr()
    fake_fred.series["FEDFUNDS"] = LATER
    report = refresh(tickers=["IWM"], as_of=night("2026-04-17"))
    assert report.status == "published"
    stored = query("SELECT date, value, run_id FROM context_series ORDER BY date")
    assert stored["value"].to_list() == [3.64, 3.63, 3.50]
    # Only the new value was written, by the night's run, in the night's version.
    assert stored["run_id"].to_list()[-1] == report.run_id and stored["run_id"].to_list()[0] != report.run_id
    assert query("SELECT count(*) AS n FROM context_series", snapshot=report.snapshot_id)["n"].item() == 3

    fake_fred.faults["FEDFUNDS"] = ["html"]
    failed = refresh(tickers=["IWM"], as_of=night("2026-04-20"))
    assert failed.status == "published"  # the prices go out all the same
    assert query("SELECT count(*) AS n FROM context_series")["n"].item() == 3
    message = query(f"SELECT message FROM runs WHERE run_id = '{failed.run_id}'")["message"].item()
    assert "context fedfunds not refreshed" in message and "web page" in message
