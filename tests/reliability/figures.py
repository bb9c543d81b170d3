"""The reliability figures: what the matrix tried and how each try came out.

The tests under tests/reliability record into FIGURES as they run; at the end of the
pytest session tests/reliability/conftest.py writes them to
test-artifacts/reliability.json and prints the table. To see the table again:

    .venv/bin/python -m tests.reliability.figures            # the README table (markdown)
    .venv/bin/python -m tests.reliability.figures --json     # the raw figures

Re-running the matrix:

    .venv/bin/pytest tests/reliability                              # CI: 12 crash trials
    SURGEWATCH_CRASH_TRIALS=200 .venv/bin/pytest tests/reliability  # the full crash count
"""

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ARTIFACT = REPO / "test-artifacts" / "reliability.json"
RERUN = "SURGEWATCH_CRASH_TRIALS=200 .venv/bin/pytest tests/reliability"


@dataclass
class Figures:
    faults: list[dict[str, Any]] = field(default_factory=list)
    crash_trials: list[dict[str, Any]] = field(default_factory=list)
    readers: list[dict[str, Any]] = field(default_factory=list)
    writers: list[dict[str, Any]] = field(default_factory=list)
    fuzz: Counter = field(default_factory=Counter)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[dict[str, Any]] = field(default_factory=list)
    tests: Counter = field(default_factory=Counter)
    notes: dict[str, Any] = field(default_factory=dict)

    def fuzz_case(self, kind: str, outcome: str) -> None:
        self.fuzz[f"{kind}: {outcome}"] += 1

    def empty(self) -> bool:
        return not any(
            (self.faults, self.crash_trials, self.readers, self.writers, self.fuzz, self.refusals, self.secrets)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "summary": summary(self),
            "faults": self.faults,
            "crash_trials": self.crash_trials,
            "readers": self.readers,
            "writers": self.writers,
            "fuzz": dict(sorted(self.fuzz.items())),
            "refusals": self.refusals,
            "secrets": self.secrets,
            "tests": dict(self.tests),
            "notes": self.notes,
            "rerun": RERUN,
        }


FIGURES = Figures()


def summary(f: Figures) -> dict[str, Any]:
    """The headline numbers of the README's reliability section."""
    faults = f.faults
    crashes = f.crash_trials
    survived_faults = [x for x in faults if x["outcome"] in ("recovered", "failed cleanly")]
    killed = [c for c in crashes if c["killed"]]
    return {
        "provider_faults_tried": len(faults),
        "provider_faults_survived": len(survived_faults),
        "provider_faults_recovered": sum(x["outcome"] == "recovered" for x in faults),
        "provider_faults_failed_cleanly": sum(x["outcome"] == "failed cleanly" for x in faults),
        "crash_trials": len(crashes),
        "crash_trials_killed": len(killed),
        "crash_trials_survived": sum(c["survived"] for c in crashes),
        "crash_points": sorted({c["point"] for c in crashes}),
        "crash_kills_in_delivery_window": sum(c.get("in_delivery_window", False) for c in killed),
        "crash_orphan_data_files_max": max((c.get("orphan_files", 0) for c in crashes), default=0),
        "reader_processes": sum(r["processes"] for r in f.readers),
        "reads": sum(r["reads"] for r in f.readers),
        "read_errors": sum(r["errors"] for r in f.readers),
        "incomplete_versions_seen": sum(r["incomplete"] for r in f.readers),
        "concurrent_refreshes": sum(w["refreshes"] for w in f.writers),
        "concurrent_refreshes_both_wrote": sum(w["both_wrote"] for w in f.writers),
        "rows_lost": sum(x["rows_lost"] for x in faults) + sum(c["rows_lost"] for c in crashes),
        "alerts_duplicated": sum(x["alerts_duplicated"] for x in faults) + sum(c["alerts_duplicated"] for c in crashes),
        "alerts_duplicated_outside_delivery_window": sum(x["alerts_duplicated"] for x in faults)
        + sum(c["alerts_duplicated"] for c in crashes if not c.get("in_delivery_window")),
        "alerts_duplicated_by_kills_in_delivery_window": sum(
            c["alerts_duplicated"] for c in crashes if c.get("in_delivery_window")
        ),
        "delivery_to_commit_ms": f.notes.get("delivery_to_commit_ms"),
        "alerts_lost": sum(x["alerts_lost"] for x in faults) + sum(c["alerts_lost"] for c in crashes),
        "fuzz_examples": sum(f.fuzz.values()),
        "bad_inputs_refused": sum(r["refused"] for r in f.refusals),
        "bad_inputs_tried": len(f.refusals),
        "secret_leaks": sum(s["hits"] for s in f.secrets),
        "secret_places_searched": sum(s["places"] for s in f.secrets),
        "tests_passed": f.tests.get("passed", 0),
        "tests_failed": f.tests.get("failed", 0),
    }


def table(data: dict[str, Any]) -> str:
    """The README table, from the JSON this module writes."""
    s = data["summary"]
    by_kind = Counter()
    for fault in data["faults"]:
        by_kind[fault["fault"]] += 1
    crash_points = Counter(c["point"] for c in data["crash_trials"])
    rows = [
        (
            "Provider faults tried (kind × provider)",
            f"{s['provider_faults_tried']} ({len(by_kind)} kinds × yahoo/tiingo/stooq where they apply)",
        ),
        (
            "… survived",
            f"{s['provider_faults_survived']} ({s['provider_faults_recovered']} recovered within the retry budget, "
            f"{s['provider_faults_failed_cleanly']} failed that ticker with a named error)",
        ),
        (
            "Crash trials (SIGKILL)",
            f"{s['crash_trials']} ({s['crash_trials_killed']} killed mid-run; points: "
            + ", ".join(f"{p}×{n}" for p, n in sorted(crash_points.items()))
            + ")",
        ),
        (
            "… warehouse opened, last version complete, re-run exit 0",
            f"{s['crash_trials_survived']} of {s['crash_trials']}",
        ),
        (
            "Readers during refreshes",
            f"{s['reader_processes']} processes, {s['reads']} reads, {s['read_errors']} errors, "
            f"{s['incomplete_versions_seen']} incomplete versions seen",
        ),
        (
            "Refreshes started together",
            f"{s['concurrent_refreshes']}, both wrote: {s['concurrent_refreshes_both_wrote']}",
        ),
        ("Rows lost (goal 0)", str(s["rows_lost"])),
        (
            "Alerts duplicated (goal 0)",
            f"{s['alerts_duplicated_outside_delivery_window']} outside the delivery→commit window; "
            f"{s['alerts_duplicated_by_kills_in_delivery_window']} re-sent after "
            f"{s['crash_kills_in_delivery_window']} kill(s) placed inside it "
            f"(window ≈ {s['delivery_to_commit_ms']} ms of a "
            f"{data['notes'].get('clean_refresh_seconds')} s run)",
        ),
        ("Alerts lost (goal 0)", str(s["alerts_lost"])),
        (
            "Fuzzed inputs (CSV + provider parsers)",
            f"{s['fuzz_examples']}, crashes or wrong numbers: 0" if s["tests_failed"] == 0 else f"{s['fuzz_examples']}",
        ),
        (
            "Bad tickers and settings refused with a named message",
            f"{s['bad_inputs_refused']} of {s['bad_inputs_tried']}",
        ),
        (
            "Secret leaks (logs, artifacts, errors, runs/alerts tables)",
            f"{s['secret_leaks']} in {s['secret_places_searched']} places searched",
        ),
        ("Reliability tests", f"{s['tests_passed']} passed, {s['tests_failed']} failed"),
    ]
    lines = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), "", f"Re-run: `{data['rerun']}`"]
    return "\n".join(lines)


def write(figures: Figures, path: Path = ARTIFACT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures.as_dict(), indent=2, default=str) + "\n", encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    if not ARTIFACT.is_file():
        print(f"no {ARTIFACT}: run `.venv/bin/pytest tests/reliability` first", file=sys.stderr)
        return 1
    data = load(json.loads(ARTIFACT.read_text(encoding="utf-8"))).as_dict()
    print(json.dumps(data["summary"], indent=2) if "--json" in argv else table(data))
    return 0


def load(data: dict[str, Any]) -> Figures:
    """Figures from the JSON written by `write` (the summary is recomputed)."""
    return Figures(
        faults=data["faults"],
        crash_trials=data["crash_trials"],
        readers=data["readers"],
        writers=data["writers"],
        fuzz=Counter(data["fuzz"]),
        refusals=data["refusals"],
        secrets=data["secrets"],
        tests=Counter(data["tests"]),
        notes=data["notes"],
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
