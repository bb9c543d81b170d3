"""Settings: environment variables prefixed SURGEWATCH_ (SPEC §4), or a .env file.

A bad value stops start-up with a message that names the variable; secrets are kept as
SecretStr so they never print.
"""

from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from surgewatch.core.errors import InputError, SettingsError
from surgewatch.core.tickers import parse_tickers
from surgewatch.core.vocabulary import DEFAULT_THRESHOLD, percent_as_fraction

Source = Literal["yahoo", "tiingo", "stooq", "csv", "polygon"]
# Where a bulk source's tickers get their histories: a per-ticker provider.
HistorySource = Literal["yahoo", "tiingo", "stooq", "csv"]
ENV_PREFIX = "SURGEWATCH_"


def env_name(setting: str) -> str:
    """The environment variable of a setting: yahoo_url -> SURGEWATCH_YAHOO_URL."""
    return ENV_PREFIX + setting.upper()


def check_threshold(value: float) -> float:
    """A threshold is a fraction in (0, 1): 0.10 for 10%. ValueError otherwise.

    A value of 1 or more is refused rather than read as +100% or more: it is almost
    always a percent typed where a fraction belongs, and it would silently find nothing.
    """
    if not 0 < value < 1:
        hint = f"; did you mean {percent_as_fraction(value)}?" if value >= 1 else ""
        raise ValueError(f"must be a fraction between 0 and 1 (0.10 for 10%), got {value:g}{hint}")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True)

    home: Path = Path("./data")
    catalog: str | None = None
    data_path: str | None = None
    tickers: Annotated[tuple[str, ...], NoDecode] = ("IWM", "SPY", "QQQ")
    source: Source = "yahoo"
    yahoo_url: str = "https://query1.finance.yahoo.com"
    tiingo_url: str = "https://api.tiingo.com"
    tiingo_token: SecretStr | None = None
    stooq_url: str = "https://stooq.com"
    history_source: HistorySource = "yahoo"
    polygon_url: str = "https://api.polygon.io"
    polygon_key: SecretStr | None = None
    fred_url: str = "https://fred.stlouisfed.org"
    csv_dir: Path | None = None
    threshold: float = Field(default=DEFAULT_THRESHOLD, gt=0, allow_inf_nan=False)
    alert_urls: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    alert_digest: int = Field(default=3, ge=1)
    http_timeout: float = Field(default=20.0, gt=0, allow_inf_nan=False)
    http_retries: int = Field(default=5, ge=0)
    http_min_interval: float = Field(default=0.5, ge=0, allow_inf_nan=False)
    # Object storage for an s3:// DATA_PATH (warehouse.storage); region, key and secret
    # fall back to the standard AWS variables when these are unset.
    s3_endpoint: str | None = None
    s3_key_id: str | None = None
    s3_secret: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_url_style: Literal["vhost", "path"] = "vhost"
    s3_use_ssl: bool = True
    keep_days: int = Field(default=90, ge=0)
    # Tickers per fetch task of a refresh: tens of Prefect tasks a night at 3,000
    # tickers, not thousands (each task costs Prefect ~10 ms of its own).
    fetch_batch: int = Field(default=100, ge=1)

    @field_validator("tickers", mode="before")
    @classmethod
    def _split_tickers(cls, value: object) -> tuple[str, ...]:
        try:
            return tuple(parse_tickers(value if isinstance(value, (str, list)) else list(value)))  # type: ignore[call-overload]  # pydantic reports a value that is not iterable
        except InputError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("threshold")
    @classmethod
    def _fraction(cls, value: float) -> float:
        return check_threshold(value)

    @field_validator("alert_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> tuple[str, ...]:
        return tuple(value.split()) if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]  # pydantic reports a value that is not iterable

    @field_validator("alert_urls")
    @classmethod
    def _apprise_urls(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        if value:
            from surgewatch.core.targets import unusable_targets  # imports Apprise: only when targets are set

            bad = unusable_targets(value)
            if bad:
                # Never the URL itself: it may carry credentials.
                raise ValueError(f"target #{', #'.join(map(str, bad))} is not a URL Apprise understands")
        return value

    @field_validator("yahoo_url", "tiingo_url", "stooq_url", "fred_url", "polygon_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        if not urlsplit(value).hostname:
            raise ValueError("names no host")
        return value.rstrip("/")

    @field_validator("s3_endpoint")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        # DuckDB's S3 secret takes host[:port] and a separate USE_SSL; a URL here would be
        # silently requested as https://http://…
        if value is not None and ("://" in value or "/" in value.strip("/") or not value.strip()):
            raise ValueError("must be host:port (no scheme or path; SURGEWATCH_S3_USE_SSL=false for plain HTTP)")
        return value.strip("/") if value is not None else None

    @field_validator("catalog")
    @classmethod
    def _catalog_kind(cls, value: str | None) -> str | None:
        # A duckdb: catalog admits one connection at a time, so readers would block on a
        # refresh: only catalogs that serve readers during a write are offered.
        if value is not None and not value.startswith(("sqlite:", "postgres:")):
            raise ValueError("must be sqlite:<path> or postgres:<libpq conninfo>")
        if value is not None and not value.partition(":")[2].strip():
            raise ValueError("names no catalog after the colon")
        if value is not None and value.startswith("sqlite:") and Path(value[7:]).expanduser().is_dir():
            raise ValueError("is a folder; it must name the catalog file")
        return value

    @field_validator("home", "data_path", "csv_dir", "s3_region", mode="before")
    @classmethod
    def _not_blank(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty")
        return value

    @field_validator("home", "data_path")
    @classmethod
    def _folder_or_nothing(cls, value: Path | str | None) -> Path | str | None:
        # Only a folder, or nothing yet (the first refresh creates it); an object-store
        # URL for DATA_PATH is not checked here.
        if (
            value is not None
            and "://" not in str(value)
            and Path(value).expanduser().exists()
            and not Path(value).expanduser().is_dir()
        ):
            raise ValueError(f"{value} exists and is not a folder")
        return value

    @field_validator("csv_dir")
    @classmethod
    def _existing_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_dir():
            raise ValueError(f"{value} is not a folder")
        return value

    @cached_property
    def catalog_uri(self) -> str:
        """The DuckLake catalog, defaulting to a SQLite file under home."""
        return self.catalog or f"sqlite:{self.home / 'catalog.sqlite'}"

    @cached_property
    def lake_path(self) -> str:
        """Where DuckLake writes its Parquet files, defaulting to home/lake/."""
        return self.data_path or f"{self.home / 'lake'}/"


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; raise SettingsError naming each bad variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = env_name("_".join(str(p) for p in err["loc"][:1]))
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("bad setting " + "; ".join(problems)) from None
    # What the chosen source needs, checked here (not in the model) so that code may
    # build Settings for other purposes without them.
    # A bulk source's histories come from a per-ticker one, which needs its own settings.
    provider = settings.history_source if settings.source == "polygon" else settings.source
    if provider == "csv" and settings.csv_dir is None:
        raise SettingsError("bad setting SURGEWATCH_CSV_DIR: the csv source needs a folder of TICKER.csv files")
    token = settings.tiingo_token.get_secret_value().strip() if settings.tiingo_token else ""
    if provider == "tiingo" and not token:
        raise SettingsError("bad setting SURGEWATCH_TIINGO_TOKEN: the tiingo source needs an API token")
    if settings.source == "polygon" and not (settings.polygon_key and settings.polygon_key.get_secret_value().strip()):
        raise SettingsError("bad setting SURGEWATCH_POLYGON_KEY: the polygon source needs an API key")
    if (settings.s3_key_id is None) != (settings.s3_secret is None):
        given, missing = ("KEY_ID", "SECRET") if settings.s3_secret is None else ("SECRET", "KEY_ID")
        raise SettingsError(
            f"bad setting SURGEWATCH_S3_{given}: set without SURGEWATCH_S3_{missing} (the two go together)"
        )
    return settings
