"""The HTML report: `load_report_data` reads the warehouse, `build_report` renders it.

with Warehouse.open(settings, read_only=True) as wh:
    data = load_report_data(wh)
    audit = load_published_audit(wh, "IWM", Path("published_table.csv"))
Path("report.html").write_text(build_report(data, since=date(2026, 1, 1), published=audit))
"""

from surgewatch.reports.data import PublishedAudit, ReportData, RunInfo, load_published_audit, load_report_data
from surgewatch.reports.html import build_report

__all__ = [
    "PublishedAudit",
    "ReportData",
    "RunInfo",
    "build_report",
    "load_published_audit",
    "load_report_data",
]
