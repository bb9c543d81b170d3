"""The weekly upkeep deployment's flow: runs upkeep, logs what it reclaimed, skips beside a refresh."""

from surgewatch.flows.maintenance import upkeep as upkeep_flow
from surgewatch.core.settings import load_settings
from surgewatch.warehouse import Warehouse
from tests.factories import another_refresh_writing, make_run, publish


def test_upkeep_flow_reclaims_and_skips_while_a_refresh_writes(monkeypatch, tmp_path, prefect_api):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SURGEWATCH_HOME", str(tmp_path / "home"))
    settings = load_settings()
    with Warehouse.open(settings) as wh:
        for run in ("run-1", "run-2"):
            publish(wh, make_run(run))
    assert upkeep_flow(keep_days=0).startswith("reclaimed ")

    with another_refresh_writing(settings):
        assert upkeep_flow(keep_days=0).startswith("skipped: another refresh is writing")
