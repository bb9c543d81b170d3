"""A real S3-compatible server on 127.0.0.1 for the object-storage tests: moto's standalone
server (moto[server], pinned in the test extra), in a thread of the test process.

Why moto: it installs from PyPI like the rest of the stack (no binary download, no
system service), speaks the S3 REST protocol over plain HTTP with path-style addressing,
and keeps buckets in memory, so every test starts from an empty store. MinIO is not
packaged for Debian or PyPI (and is AGPL); LocalStack needs Docker.
"""

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import free_port

KEY_ID, SECRET = "surgewatch-test", "s3-CANARY-9d8c7b6a"


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # host:port, as SURGEWATCH_S3_ENDPOINT takes it

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=f"http://{self.endpoint}",
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        )

    def bucket(self, name: str) -> str:
        """Create a bucket and return its name."""
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def env(self, data_path: str) -> dict[str, str]:
        """SURGEWATCH_* settings for a lake at data_path on this server."""
        return {
            "SURGEWATCH_DATA_PATH": data_path,
            "SURGEWATCH_S3_ENDPOINT": self.endpoint,
            "SURGEWATCH_S3_KEY_ID": KEY_ID,
            "SURGEWATCH_S3_SECRET": SECRET,
            "SURGEWATCH_S3_URL_STYLE": "path",
            "SURGEWATCH_S3_USE_SSL": "false",
        }


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port. Skips only outside CI when moto is not
    installed; under CI=true a server that cannot start fails the test."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        if _ci():
            pytest.fail(f"moto[server] is not installed and CI is set: {exc}")
        pytest.skip(f"no S3 test server: {exc} (pip install -e '.[test]'); CI=true turns this into a failure")
    # One log line per S3 request would bury the test output (Prefect's logging config
    # turns werkzeug's request log on).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    try:
        server.start()
        host, port = server.get_host_and_port()
        S3Server(f"{host}:{port}").client().list_buckets()
    except Exception as exc:  # noqa: BLE001  (any failure to start is the same failure)
        pytest.fail(f"could not start the S3 test server: {exc}")
    try:
        yield S3Server(f"{host}:{port}")
    finally:
        server.stop()
