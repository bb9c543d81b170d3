"""The layer order declared in pyproject.toml ([tool.importlinter]) holds: every import
of the project points down, and the ground floor imports nothing else of it."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_imports_follow_the_declared_layers():
    # PYTHONPATH=ROOT: the contract reads this checkout, not whatever surgewatch is installed.
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_contract_sees_the_linked_subpackages():
    """grimp walks surgewatch/flows -> ../flows: otherwise the contract would pass vacuously."""
    import grimp

    graph = grimp.build_graph("surgewatch", cache_dir=None)
    for package in ("flows", "transforms", "schemas", "warehouse", "sources", "alerts", "reports"):
        assert f"surgewatch.{package}" in graph.modules
    assert graph.direct_import_exists(importer="surgewatch.flows.refresh", imported="surgewatch.study.update")


def test_the_flows_hold_no_sql():
    """Flows compose: every query is a warehouse reader method (warehouse/readers.py, lake.py)."""
    sql = re.compile(r"\b(SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ SET|CREATE TABLE|ALTER TABLE|DESCRIBE)\b")
    found = [
        f"{path.name}:{node.lineno}: {node.value[:60]!r}"
        for path in sorted((ROOT / "flows").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and sql.search(node.value)
    ]
    assert not found, found
