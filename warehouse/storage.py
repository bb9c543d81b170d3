"""Object storage for the lake's data files: SURGEWATCH_DATA_PATH=s3://bucket/prefix/.

DuckDB reaches S3-compatible stores through its httpfs extension (the pip-packaged file,
loaded like the others, never INSTALLed) and a temporary S3 secret created on each
connection. The secret is built from SURGEWATCH_S3_*, else from the standard AWS
variables, and scoped to the lake's prefix so it is never offered to another bucket. It
lives only in memory: DuckDB redacts it in duckdb_secrets(), and every error text that
could echo it is passed through `redact` before anyone sees it.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from surgewatch.core.settings import Settings
from surgewatch.warehouse.extensions import sql_literal

SCHEME = "s3://"
SECRET_NAME = "surgewatch_lake"


def is_object_store(location: str) -> bool:
    """True for a DATA_PATH on S3-compatible object storage."""
    return location.startswith(SCHEME)


def _revealed(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


@dataclass(frozen=True)
class ObjectStore:
    """The S3 secret for one lake prefix; secrets stay SecretStr so a repr never shows them."""

    scope: str
    region: str
    url_style: str
    use_ssl: bool
    endpoint: str | None = None
    key_id: str | None = None
    secret: SecretStr | None = None
    session_token: SecretStr | None = None

    @classmethod
    def from_settings(cls, settings: Settings, environ: Mapping[str, str] = os.environ) -> "ObjectStore | None":
        """The store behind settings.lake_path, or None for a local folder.

        Key and secret come as a pair: SURGEWATCH_S3_KEY_ID/_SECRET when set, else
        AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); neither means
        anonymous requests (a public bucket). The region falls back to AWS_REGION, then
        AWS_DEFAULT_REGION, when SURGEWATCH_S3_REGION is not set.
        """
        if not is_object_store(settings.lake_path):
            return None
        key_id: str | None
        if settings.s3_key_id is not None:
            key_id, secret, token = settings.s3_key_id, settings.s3_secret, None
        else:
            key_id = environ.get("AWS_ACCESS_KEY_ID") or None
            secret = SecretStr(environ["AWS_SECRET_ACCESS_KEY"]) if environ.get("AWS_SECRET_ACCESS_KEY") else None
            token = SecretStr(environ["AWS_SESSION_TOKEN"]) if environ.get("AWS_SESSION_TOKEN") else None
        region = settings.s3_region
        if "s3_region" not in settings.model_fields_set:
            region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or region
        scope = settings.lake_path if settings.lake_path.endswith("/") else settings.lake_path + "/"
        return cls(
            scope, region, settings.s3_url_style, settings.s3_use_ssl, settings.s3_endpoint, key_id, secret, token
        )

    def secret_sql(self) -> str:
        """CREATE SECRET takes no bound parameters, so the values are quoted as literals;
        the statement is only ever executed, never logged or put on a command line."""
        options = {
            "TYPE": "s3",
            "PROVIDER": "config",
            "SCOPE": sql_literal(self.scope),
            "REGION": sql_literal(self.region),
            "URL_STYLE": sql_literal(self.url_style),
            "USE_SSL": "true" if self.use_ssl else "false",
        }
        optional = {
            "ENDPOINT": self.endpoint,
            "KEY_ID": self.key_id,
            "SECRET": _revealed(self.secret),
            "SESSION_TOKEN": _revealed(self.session_token),
        }
        options.update({name: sql_literal(value) for name, value in optional.items() if value is not None})
        body = ", ".join(f"{name} {value}" for name, value in options.items())
        return f"CREATE OR REPLACE TEMPORARY SECRET {SECRET_NAME} ({body})"

    def redact(self, text: str) -> str:
        """Mask the secret and session token wherever a message might repeat them."""
        for hidden in (_revealed(self.secret), _revealed(self.session_token)):
            if hidden:
                text = text.replace(hidden, "***")
        return text
