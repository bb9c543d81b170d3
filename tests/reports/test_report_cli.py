"""`surgewatch report` as a user runs it."""

from surgewatch.cli import main


def test_report_command_writes_one_self_contained_file(warehouse_home, reference_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SURGEWATCH_HOME", str(warehouse_home))
    out = tmp_path / "report.html"
    code = main(
        [
            "report",
            "--out",
            str(out),
            "--published",
            str(reference_dir / "published_table.csv"),
            "--published-ticker",
            "IWM",
            "--since",
            "2026-01-02",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert f"wrote {out}" in capsys.readouterr().out
    html = out.read_text()
    assert "Audit: IWM against the published table" in html and "2003-05" in html
    assert "<script src=" not in html


def test_report_without_a_warehouse_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SURGEWATCH_HOME", str(tmp_path / "nowhere"))
    assert main(["report", "--out", str(tmp_path / "r.html")]) == 2
    assert "run `surgewatch refresh` first" in capsys.readouterr().err


def test_report_bad_since_is_one_line(warehouse_home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SURGEWATCH_HOME", str(warehouse_home))
    assert main(["report", "--out", str(tmp_path / "r.html"), "--since", "yesterday"]) == 2
    assert capsys.readouterr().err.strip() == "error: --since: not a date (YYYY-MM-DD): 'yesterday'"
