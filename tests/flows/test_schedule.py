"""The nightly schedule: one cron in New York time, in prefect.yaml and in `serve`, DST-proof."""

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from prefect.server.schemas.schedules import CronSchedule

from surgewatch.flows.schedule import DEPLOYMENT_NAME, NIGHTLY_CRON, TIMEZONE, nightly_schedule

REPO = Path(__file__).resolve().parents[2]
NEW_YORK = ZoneInfo("America/New_York")


def deployment() -> dict:
    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    (nightly,) = [d for d in config["deployments"] if d["name"] == DEPLOYMENT_NAME]
    return nightly


def test_prefect_yaml_and_serve_share_one_schedule():
    (schedule,) = deployment()["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == (NIGHTLY_CRON, TIMEZONE) == ("30 22 * * 1-5", "America/New_York")
    served = nightly_schedule()
    assert (served.cron, served.timezone) == (NIGHTLY_CRON, TIMEZONE)


def test_entrypoint_is_the_refresh_flow():
    path, name = deployment()["entrypoint"].split(":")
    assert (REPO / path).is_file()
    from surgewatch.flows import refresh as module

    assert getattr(module, name).name == "surgewatch-refresh"


@pytest.mark.parametrize(
    "start, utc_times",
    [
        # Spring forward on Sunday 2026-03-08: 22:30 EST is 03:30 UTC, 22:30 EDT is 02:30 UTC.
        (
            dt.datetime(2026, 3, 5, 12, tzinfo=dt.timezone.utc),
            ["2026-03-06 03:30", "2026-03-07 03:30", "2026-03-10 02:30"],
        ),
        # Fall back on Sunday 2026-11-01.
        (
            dt.datetime(2026, 10, 29, 12, tzinfo=dt.timezone.utc),
            ["2026-10-30 02:30", "2026-10-31 02:30", "2026-11-03 03:30"],
        ),
    ],
)
def test_runs_at_2230_new_york_across_dst(start, utc_times):
    dates = asyncio.run(CronSchedule(cron=NIGHTLY_CRON, timezone=TIMEZONE).get_dates(n=3, start=start))
    assert [d.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M") for d in dates] == utc_times
    assert {d.astimezone(NEW_YORK).strftime("%H:%M") for d in dates} == {"22:30"}
    assert {d.astimezone(NEW_YORK).weekday() for d in dates} <= {0, 1, 2, 3, 4}  # weekdays only
