"""The report's lineage names, per stored row, the run that wrote it: a ticker's history
from the first run, the next night's session from the next run (the report used to name
the latest run for every row)."""

import re
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from surgewatch.reports import build_report, load_report_data
from surgewatch.warehouse import Warehouse
from tests.factories import SESSIONS, make_prices, make_results, make_run, open_read_only, publish, settings_for

FIRST, SECOND = "11111111-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002"
NEXT_NIGHT = date(2026, 1, 12)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    home = tmp_path_factory.mktemp("lineage")
    with Warehouse.open(settings_for(home)) as wh:
        publish(wh, make_run(FIRST))
        # The next night writes its one new session and recomputes AAA's results only (new values:
        # a row whose values did not change keeps the run that wrote it).
        publish(
            wh,
            replace(make_run(SECOND), as_of=NEXT_NIGHT, started_at=datetime(2026, 1, 12, 22, tzinfo=timezone.utc)),
            prices=make_prices(sessions=[NEXT_NIGHT]),
            results=make_results(tickers=("AAA",), move=0.13),
        )
    with open_read_only(home) as wh:
        return load_report_data(wh)


def _lineage_rows(html: str) -> list[list[str]]:
    section = html[html.index('<section id="lineage"') : html.index("<footer>")].split("</thead>")[1]
    rows = re.findall(r"<tr>(.*?)</tr>", section, flags=re.DOTALL)
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
        for r in rows
    ]


def test_each_run_is_named_for_the_sessions_it_wrote(data):
    aaa = data.lineage.filter(data.lineage["ticker"] == "AAA")
    assert aaa.select("prices_run", "first_session", "last_session", "sessions").rows() == [
        (FIRST, SESSIONS[0], SESSIONS[-1], len(SESSIONS)),
        (SECOND, NEXT_NIGHT, NEXT_NIGHT, 1),
    ]


def test_the_report_shows_one_line_per_run_that_wrote_prices(data):
    rows = _lineage_rows(build_report(data))
    first, second = FIRST[:8], SECOND[:8]
    assert rows[0][0] == f"AAA · {len(SESSIONS) + 1} sessions"
    assert rows[0][1:4] == ["2026-01-02", "2026-01-09", str(len(SESSIONS))] and rows[0][6] == first
    assert rows[1][:3] == ["2026-01-12", "2026-01-12", "1"] and rows[1][5] == second
    # The second run rewrote AAA's rows whose values changed (its events); the rest of AAA's
    # and all of BBB's are still the first run's.
    assert rows[0][7] == f"{first} (4 rows) {second} (2 rows)" and rows[2][7].startswith(first)
    assert second not in rows[2][7]
