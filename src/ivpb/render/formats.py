"""An audit report in one of its formats, by name or by a file's extension: what ivpb audit
prints and writes, and what the audit job (the audit_report action) leaves as files."""

from __future__ import annotations

# What --format prints: the report for people and CI. The metrics (no findings in words, only
# statuses and numbers) go to a file of their own, --metrics or -o FILE.prom.
FORMATS = ("table", "json", "junit", "markdown", "html")
EXTENSIONS = {".json": "json", ".xml": "junit", ".md": "markdown", ".html": "html", ".htm": "html", ".txt": "table",
              ".prom": "metrics"}


RENDERERS = {"table": "report_table", "json": "json_report", "junit": "junit", "markdown": "markdown", "html": "html",
             "metrics": "metrics"}


def render(report: dict, fmt: str, lang: str, history: list[dict] | None = None) -> str:
    """The report in fmt; the HTML also shows the trend over the audits in history."""
    from importlib import import_module

    from ivpb.audit.evaluate import paused_gc

    renderer = import_module(f"ivpb.render.{RENDERERS[fmt]}")
    with paused_gc():  # a large federation's report is tens of millions of characters built from pieces
        return renderer.render(report, lang, history=history) if fmt == "html" else renderer.render(report, lang)
