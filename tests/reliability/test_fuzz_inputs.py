"""Bad input, property-based: the CSV source and each provider's parser, fed garbage.

The promise checked for any input hypothesis can make up:
- the CSV reader raises nothing but InputError (one line naming the file);
- a provider's parser raises nothing but SourceError (naming the ticker);
- when either succeeds, every number it returns is exactly the number the input gave for
  that session (no value made up, shifted, coerced from a non-number, or cut), and every
  price is finite.
Provider answers are served to the real source classes through a stub session (the HTTP
layer has its own fault tests), so thousands of bodies cost seconds.
"""

import datetime as dt
import json
import math
import os
from typing import Any

import polars as pl
import pytest
import requests
from hypothesis import HealthCheck, example, given, settings, strategies as st

from surgewatch.sources import RAW_SCHEMA, make_source, read_price_csv
from surgewatch.core.errors import InputError, SourceError
from surgewatch.core.settings import Settings
from tests.fake_providers import TEST_TOKEN, sessions, yahoo_stamp
from tests.reliability.figures import FIGURES

SESSIONS = sessions(dt.date(2025, 1, 2), dt.date(2025, 12, 31))
PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close", "volume")
# SURGEWATCH_FUZZ_EXAMPLES=2000 for a longer hunt; 150 per property keeps CI quick.
FUZZ = settings(
    max_examples=int(os.environ.get("SURGEWATCH_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- inputs --------------------------------------------------------------------------------

prices = st.floats(allow_nan=False, allow_infinity=False, width=64)
volumes = st.integers(min_value=0, max_value=2**53)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def bars(draw, min_size: int = 1, max_size: int = 8) -> list[dict[str, Any]]:
    """Well-formed bars on distinct sessions: what a healthy provider would send."""
    days = sorted(draw(st.lists(st.sampled_from(SESSIONS), min_size=min_size, max_size=max_size, unique=True)))
    return [
        {"date": d, **{c: draw(prices) for c in ("open", "high", "low", "close", "adj_close")}, "volume": draw(volumes)}
        for d in days
    ]


def yahoo_body(rows: list[dict], symbol: str = "TEST") -> dict:
    return {
        "chart": {
            "error": None,
            "result": [
                {
                    "meta": {"symbol": symbol, "currency": "USD"},
                    "timestamp": [yahoo_stamp(r["date"]) for r in rows],
                    "indicators": {
                        "quote": [{c: [r[c] for r in rows] for c in ("open", "high", "low", "close", "volume")}],
                        "adjclose": [{"adjclose": [r["adj_close"] for r in rows]}],
                    },
                }
            ],
        }
    }


def tiingo_body(rows: list[dict]) -> list[dict]:
    return [
        {
            "date": f"{r['date']}T00:00:00.000Z",
            **{c: r[c] for c in ("open", "high", "low", "close", "volume")},
            "adjClose": r["adj_close"],
            "splitFactor": 1.0,
            "divCash": 0.0,
        }
        for r in rows
    ]


def stooq_body(rows: list[dict]) -> str:
    lines = ["Date,Open,High,Low,Close,Volume"]
    lines += [f"{r['date']},{r['open']!r},{r['high']!r},{r['low']!r},{r['close']!r},{r['volume']}" for r in rows]
    return "\r\n".join(lines) + "\r\n"


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a node of a JSON value (for mutations)."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += paths(value, (*prefix, i))
    return found


def mutate(body: Any, path: tuple, how: str, value: Any) -> Any:
    """A copy of body with the node at path replaced, deleted or cut short."""
    body = json.loads(json.dumps(body))
    if not path:
        return value
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "shorten" and isinstance(parent[last], list):
        parent[last] = parent[last][:-1]
    else:
        parent[last] = value
    return body


# -- the sources behind a stub session ---------------------------------------------------------


class StubSession:
    """Answers every GET with one fixed 200 response (what fetch() needs of a Session)."""

    def __init__(self, body: bytes, content_type: str):
        self.body, self.content_type = body, content_type

    def get(self, url: str, params: Any = None, headers: Any = None) -> requests.Response:
        response = requests.Response()
        response.status_code, response.reason, response.url = 200, "OK", url
        response._content = self.body
        response.headers["Content-Type"] = self.content_type
        response.encoding = "utf-8"
        return response

    def get_adapter(self, url: str) -> None:
        return None


SETTINGS = Settings(
    _env_file=None,
    tiingo_token=TEST_TOKEN,
    yahoo_url="http://127.0.0.1:9",
    tiingo_url="http://127.0.0.1:9",
    stooq_url="http://127.0.0.1:9",
)


def parse(provider: str, body: bytes) -> pl.DataFrame:
    content_type = "text/csv" if provider == "stooq" else "application/json"
    source = make_source(SETTINGS.model_copy(update={"source": provider}), StubSession(body, content_type))
    return source.daily_prices("TEST", None, None)


def encode(value: Any) -> bytes:
    return (
        json.dumps(value, allow_nan=True).encode()
        if not isinstance(value, (bytes, str))
        else (value if isinstance(value, bytes) else value.encode())
    )


def numbers_in(node: Any) -> set[float]:
    """Every finite number anywhere in a JSON value (bools are not numbers)."""
    if isinstance(node, bool):
        return set()
    if isinstance(node, (int, float)):
        return {float(node)} if math.isfinite(float(node)) else set()
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    return set().union(*(numbers_in(c) for c in children)) if children else set()


def splits_are_one(body: Any) -> bool:
    rows = body if isinstance(body, list) else []
    return all(not isinstance(r, dict) or r.get("splitFactor") in (None, 1, 1.0) for r in rows)


def check_output(frame: pl.DataFrame, provider: str) -> None:
    """What any successful parse must look like, whatever the input."""
    assert frame.schema == RAW_SCHEMA
    assert frame["ticker"].unique().to_list() in ([], ["TEST"])
    assert frame["date"].is_unique().all() and frame["date"].is_sorted()
    for column in ("open", "high", "low", "close", "adj_close"):
        values = frame[column].drop_nulls()
        assert values.is_finite().all(), f"{provider}: a non-finite {column} got through"
    assert frame.select(pl.col(c).is_null().any() for c in ("open", "high", "low", "close")).row(0) == (False,) * 4


def expect_rows(frame: pl.DataFrame, rows: list[dict], provider: str) -> None:
    """The parsed frame holds exactly the given bars (Stooq has no adjusted close)."""
    want = pl.DataFrame(
        [{"ticker": "TEST", **r, "adj_close": None if provider == "stooq" else r["adj_close"]} for r in rows],
        schema=RAW_SCHEMA,
    )
    assert frame.rows() == want.rows()


def record(kind: str, outcome: str) -> None:
    FIGURES.fuzz_case(kind, outcome)


# -- CSV ------------------------------------------------------------------------------------

CSV_TOKENS = st.one_of(
    prices.map(repr),
    volumes.map(str),
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "-1",
            "0",
            "0.0",
            "abc",
            "1,5",
            "1_000",
            "0x10",
            " 12.5 ",
            "+3",
            "1e-320",
            "true",
            "None",
            "'",
            '"',
            "2025-01-02",
            "\x00",
            "\u00a0",
        ]
    ),
    st.text(max_size=6),
)


@st.composite
def csv_files(draw) -> tuple[str, list[list[str]]]:
    header = draw(
        st.sampled_from(
            [
                "date,open,high,low,close,adj_close,volume",
                "Date,Open,High,Low,Close,Adj Close,Volume",
                "date,open,high,low,close",
                "date,open,high,close",
                "date,close,open,low,high,volume,adj_close",
            ]
        )
    )
    columns = [c.strip().lower().replace(" ", "_") for c in header.split(",")]
    rows = []
    for day in sorted(draw(st.lists(st.sampled_from(SESSIONS), max_size=6))):
        date_text = draw(st.one_of(st.just(day.isoformat()), st.sampled_from(["", "2025-02-30", "20250102", "bad"])))
        rows.append([date_text if c == "date" else draw(CSV_TOKENS) for c in columns])
    return header, rows


def expected_number(text: str | None) -> float | None:
    return None if text is None or not text.strip() else float(text.strip())


@FUZZ
@given(case=csv_files())
@example(case=("date,open,high,low,close", [["2025-01-02", "1", "2", "0.5", "1e400"]]))
@example(
    case=("date,open,high,low,close", [["2025-01-02", "1", "2", "0.5", "1.5"], ["2025-01-02", "1", "2", "0.5", "1.5"]])
)
def test_csv_rows_read_exactly_or_fail_with_one_clear_line(tmp_path_factory, case):
    header, rows = case
    path = tmp_path_factory.mktemp("csv") / "TEST.csv"
    path.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    try:
        frame = read_price_csv(path, "TEST")
    except InputError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        record("csv rows", "refused")
        return
    check_output(frame, "csv")
    columns = [c.strip().lower().replace(" ", "_") for c in header.split(",")]
    by_date = {
        dt.date.fromisoformat(r[columns.index("date")].strip()): dict(zip(columns, r))
        for r in rows
        if any(cell.strip() for cell in r)
    }
    assert sorted(by_date) == frame["date"].to_list()
    for row in frame.iter_rows(named=True):
        given_row = by_date[row["date"]]
        for column in PRICE_COLUMNS:
            want = expected_number(given_row.get(column))
            assert row[column] == want, (
                f"{column} on {row['date']}: read {row[column]!r} from {given_row.get(column)!r}"
            )
    record("csv rows", "read exactly")


@FUZZ
@given(blob=st.binary(max_size=300))
@example(blob=b"\xff\xfe\x00d\x00a")
@example(blob=b"date,open,high,low,close\n2025-01-02,1,2,0.5,1.5\n2025-01-03,1,2")
def test_csv_bytes_never_crash_the_reader(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("csv") / "TEST.csv"
    path.write_bytes(b"date,open,high,low,close,adj_close,volume\n" + blob)
    try:
        frame = read_price_csv(path, "TEST")
    except InputError as exc:
        assert "\n" not in str(exc)
        record("csv bytes", "refused")
        return
    check_output(frame, "csv")
    record("csv bytes", "read")


# -- providers ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["yahoo", "tiingo", "stooq"])
@FUZZ
@given(rows=bars())
def test_a_well_formed_answer_parses_to_exactly_its_numbers(provider, rows):
    body = {"yahoo": yahoo_body, "tiingo": tiingo_body, "stooq": stooq_body}[provider](rows)
    expect_rows(parse(provider, encode(body)), rows, provider)
    record(f"{provider} well-formed", "exact")


VALID = {"yahoo": lambda: yahoo_body(_SAMPLE), "tiingo": lambda: tiingo_body(_SAMPLE)}
_SAMPLE = [
    {
        "date": d,
        "open": 10.0 + i,
        "high": 11.0 + i,
        "low": 9.0 + i,
        "close": 10.5 + i,
        "adj_close": 10.25 + i,
        "volume": 1000 + i,
    }
    for i, d in enumerate(SESSIONS[:4])
]


@pytest.mark.parametrize("provider", ["yahoo", "tiingo"])
@FUZZ
@given(data=st.data())
def test_a_damaged_json_answer_is_refused_or_read_exactly(provider, data):
    body = VALID[provider]()
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        where = data.draw(st.sampled_from(paths(body)), label="path")
        how = data.draw(st.sampled_from(["replace", "delete", "shorten"]) if where else st.just("replace"), label="how")
        body = mutate(body, where, how, data.draw(json_values, label="value"))
    try:
        frame = parse(provider, encode(body))
    except SourceError as exc:
        assert str(exc).startswith("TEST: ") and "\n" not in str(exc)
        record(f"{provider} damaged", "refused")
        return
    check_output(frame, provider)
    if provider == "tiingo" and not splits_are_one(body):
        # Prices are divided by later split factors (sources.tiingo): computed, not given.
        record(f"{provider} damaged", "read (split-adjusted)")
        return
    # Nothing made up: every number returned was in the answer as a number.
    given_numbers = numbers_in(body)
    for column in ("open", "high", "low", "close", "adj_close", "volume"):
        for value in frame[column].drop_nulls().to_list():
            assert float(value) in given_numbers, f"{provider}: {column} {value!r} is not a number the answer gave"
    record(f"{provider} damaged", "read")


@pytest.mark.parametrize("provider", ["yahoo", "tiingo", "stooq"])
@FUZZ
@given(blob=st.one_of(st.binary(max_size=200), json_values.map(encode)))
@example(blob=b"[" * 1500 + b"]" * 1500)
@example(blob=b'{"chart": {"result": [{"meta": {"symbol": "TEST"}, "timestamp": [99999999999999999999]}]}}')
@example(blob=b"Date,Open,High,Low,Close,Volume\r\n2025-01-02,1,2,0.5,1")
@example(blob=b"Date,Open,High,Low,Close,Volume\r\n2025-01-02,1,2,0.5,1.5,1e30\r\n")
def test_any_bytes_are_refused_with_a_source_error_or_read(provider, blob):
    try:
        frame = parse(provider, blob)
    except SourceError as exc:
        assert str(exc).startswith("TEST: ") and "\n" not in str(exc)
        record(f"{provider} bytes", "refused")
        return
    check_output(frame, provider)
    record(f"{provider} bytes", "read")


@pytest.mark.parametrize("provider", ["yahoo", "tiingo", "stooq"])
@pytest.mark.parametrize("value", [True, "12.5", 1e309, -1e309, float("nan"), 2**64, 1e30])
def test_non_numbers_and_overflows_never_become_prices(provider, value):
    """A bar whose close is a bool, a numeric string, an infinity or an overflow is
    refused or dropped, never stored as some other number."""
    rows = [dict(r) for r in _SAMPLE]
    rows[1]["close"] = value
    rows[2]["volume"] = value if not isinstance(value, str) else rows[2]["volume"]
    if provider == "stooq":
        body = stooq_body(rows).encode()
    else:
        body = encode({"yahoo": yahoo_body, "tiingo": tiingo_body}[provider](rows))
    try:
        frame = parse(provider, body)
    except SourceError:
        record("non-numbers", "refused")
        return
    check_output(frame, provider)
    stored = dict(zip(frame["date"], frame["close"]))
    # A number spelled as a string may be read as that number; nothing else may be stored.
    spelled = float(value) if isinstance(value, str) else value
    assert SESSIONS[1] not in stored or (stored[SESSIONS[1]] == spelled and not isinstance(value, bool)), (
        f"close {value!r} became {stored[SESSIONS[1]]!r}"
    )
    volumes = dict(zip(frame["date"], frame["volume"]))
    assert volumes.get(SESSIONS[2]) in (None, rows[2]["volume"]) or float(volumes[SESSIONS[2]]) == float(
        rows[2]["volume"]
    )
    record("non-numbers", "dropped or kept exactly")
