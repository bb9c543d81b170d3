"""The lake's data files on S3-compatible object storage (SURGEWATCH_DATA_PATH=s3://…),
against a real S3 server on loopback (tests/warehouse/s3_server.py)."""

import os
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from surgewatch.core.errors import SettingsError, WarehouseError
from surgewatch.core.settings import Settings, load_settings
from surgewatch.warehouse import Warehouse
from surgewatch.warehouse.catalog import Catalog
from surgewatch.warehouse.storage import ObjectStore
from tests.warehouse.s3_server import SECRET


def s3_settings(home: Path, server, bucket: str, **changes) -> Settings:
    values = {
        name.removeprefix("SURGEWATCH_").lower(): value for name, value in server.env(f"s3://{bucket}/lake/").items()
    }
    return Settings(home=home, catalog=None, _env_file=None, **{**values, **changes})


def test_a_lake_on_object_storage_publishes_and_reads_inside_its_prefix_only(s3_server, build, tmp_path):
    bucket = s3_server.bucket("sw-publish")
    s3_server.client().put_object(Bucket=bucket, Key="elsewhere/x.csv", Body=b"a\n1\n")
    settings = s3_settings(tmp_path / "home", s3_server, bucket)
    with Warehouse.open(settings) as wh:
        version = build.publish(wh, build.run("run-1"))
    keys = s3_server.keys(bucket)
    assert any(key.startswith("lake/main/prices_daily/") and key.endswith(".parquet") for key in keys)
    assert not (tmp_path / "home" / "lake").exists()  # no data file went to the local disk

    with Warehouse.open(settings, read_only=True) as wh:
        assert wh.sql("SELECT count(*) AS n FROM prices_daily", snapshot=version)["n"].to_list() == [12]
        assert wh.prices(["AAA"]).height == 6
        # The reader's lock-down: the lake's own files yes, the rest of the bucket and the
        # local disk no.
        inside = wh.sql(f"SELECT count(*) AS n FROM read_parquet('s3://{bucket}/lake/main/prices_daily/*.parquet')")
        assert inside["n"].to_list() == [12]
        for outside in (f"s3://{bucket}/elsewhere/x.csv", f"s3://{bucket}/lake-other/x.csv", "/etc/hostname"):
            with pytest.raises(WarehouseError, match="Permission Error"):
                wh.sql(f"SELECT * FROM read_csv('{outside}')")
        secrets = wh.sql("SELECT secret_string FROM duckdb_secrets()")["secret_string"].to_list()
        assert len(secrets) == 1 and SECRET not in secrets[0] and f"scope=s3://{bucket}/lake/" in secrets[0]


def test_the_shell_gets_the_secret_through_a_pipe_never_argv_or_history(s3_server, build, tmp_path):
    bucket = s3_server.bucket("sw-shell")
    settings = s3_settings(tmp_path / "home", s3_server, bucket)
    with Warehouse.open(settings) as wh:
        build.publish(wh, build.run("run-1"))
    with Warehouse.open(settings, read_only=True) as wh:
        argv = wh.shell_command()
    assert not any(SECRET in arg for arg in argv)
    init_fd = int(argv[argv.index("-init") + 1].rsplit("/", 1)[1])
    home = tmp_path / "user"
    home.mkdir()
    try:
        shell = subprocess.run(
            [*argv, "-batch", "-csv", "-noheader"],
            input="SELECT count(*) FROM prices_daily;\n",
            capture_output=True,
            text=True,
            timeout=60,
            pass_fds=(init_fd,),
            env={**os.environ, "HOME": str(home)},
        )
    finally:
        os.close(init_fd)
    assert shell.stdout.strip() == "12", shell.stderr
    assert SECRET not in shell.stdout + shell.stderr
    assert all(SECRET not in path.read_text(errors="replace") for path in home.rglob("*") if path.is_file())


def test_a_secret_never_reaches_an_error(s3_server, build, tmp_path):
    # Nothing listens on port 1: writing the first data file fails with DuckDB's message.
    settings = s3_settings(tmp_path / "home", s3_server, "sw-none", s3_endpoint="127.0.0.1:1")
    with pytest.raises(WarehouseError, match="nothing was written") as error:
        with Warehouse.open(settings) as wh:
            build.publish(wh, build.run("run-1"))
    assert SECRET not in str(error.value)
    catalog = Catalog.from_settings(settings)
    assert SECRET not in repr(catalog) and SECRET not in catalog.display
    assert catalog.redact(f"echoed {SECRET} back") == "echoed *** back"


def test_the_secret_comes_from_surgewatch_settings_else_the_aws_variables(tmp_path):
    aws = {
        "AWS_ACCESS_KEY_ID": "AKIAAWS",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "AWS_SESSION_TOKEN": "tok",
        "AWS_REGION": "eu-west-3",
    }
    base = Settings(home=tmp_path, data_path="s3://b/p", _env_file=None)
    store = ObjectStore.from_settings(base, aws)
    assert (store.key_id, store.secret, store.session_token, store.region) == (
        "AKIAAWS",
        SecretStr("aws-secret"),
        SecretStr("tok"),
        "eu-west-3",
    )
    assert (store.scope, store.url_style, store.use_ssl, store.endpoint) == ("s3://b/p/", "vhost", True, None)
    sql = store.secret_sql()
    assert "KEY_ID 'AKIAAWS'" in sql and "SECRET 'aws-secret'" in sql and "SESSION_TOKEN 'tok'" in sql

    own = base.model_copy(update={"s3_key_id": "mine", "s3_secret": SecretStr("my-secret"), "s3_region": "us-west-2"})
    own = Settings(**{**own.model_dump(), "_env_file": None})  # as if read from SURGEWATCH_S3_*
    store = ObjectStore.from_settings(own, aws)
    assert (store.key_id, store.secret, store.session_token, store.region) == (
        "mine",
        SecretStr("my-secret"),
        None,
        "us-west-2",
    )
    assert ObjectStore.from_settings(base, {}).key_id is None  # anonymous: a public bucket
    assert ObjectStore.from_settings(base, {}).region == "us-east-1"
    assert ObjectStore.from_settings(Settings(home=tmp_path, _env_file=None), aws) is None  # a local lake


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SURGEWATCH_S3_ENDPOINT": "http://127.0.0.1:9000"},
            "bad setting SURGEWATCH_S3_ENDPOINT: .*must be host:port",
        ),
        ({"SURGEWATCH_S3_KEY_ID": "k"}, "bad setting SURGEWATCH_S3_KEY_ID: set without SURGEWATCH_S3_SECRET"),
        ({"SURGEWATCH_S3_SECRET": "s3-CANARY-x"}, "bad setting SURGEWATCH_S3_SECRET: set without SURGEWATCH_S3_KEY_ID"),
        ({"SURGEWATCH_S3_URL_STYLE": "virtual"}, "bad setting SURGEWATCH_S3_URL_STYLE"),
    ],
)
def test_bad_object_storage_settings_are_named(env, message, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("SURGEWATCH_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message) as error:
        load_settings()
    assert "CANARY" not in str(error.value)
