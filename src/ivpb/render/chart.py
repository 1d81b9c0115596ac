"""The HTML report's opening picture: per clause, one bar of its results by status (issue #24).

Inline SVG drawn by templates/chart.svg.j2, no script. Each status has a fill pattern besides its
colour (lines, dots, a grid), and each segment carries its number, so the chart reads the same
printed in black and white. A bar is the clause's applicable results (a 100 % bar); the results
that are not applicable are counted beside it, not drawn: they would swamp the bar.

The numbers are the summary's (labels.clause_rows), never counted again here.
"""

from __future__ import annotations

from typing import Any

from ivpb.render.labels import status_label, w
from ivpb.statuses import STATUSES

DRAWN = tuple(s for s in STATUSES if s != "not_applicable")
# Geometry (SVG user units): the clause label, the bar, the not-applicable count after it.
LABEL_W, BAR_W, AFTER_W, ROW_H, BAR_H, TOP = 190, 420, 150, 30, 20, 4
MIN_TEXT_W = 22  # a segment narrower than this carries its number in its title only


def chart(clauses: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """What templates/chart.svg.j2 draws, from the summary's rows (labels.clause_rows)."""
    rows = []
    for n, c in enumerate(clauses):
        counts = c["counts"]
        applicable = sum(counts[s] for s in DRAWN)
        x, segments = float(LABEL_W), []
        for s in DRAWN:
            if not counts[s]:
                continue
            width = round(BAR_W * counts[s] / applicable, 2)
            segments.append({"status": s, "count": counts[s], "x": round(x, 2), "width": width,
                             "text": width >= MIN_TEXT_W, "mid": round(x + width / 2, 2),
                             "title": f"{c['id']} {c['title']}: {counts[s]} {status_label(s, lang)}"})
            x += width
        y = TOP + n * ROW_H
        rows.append({"id": c["id"], "title": c["title"], "y": y, "text_y": y + BAR_H / 2 + 5, "segments": segments,
                     "empty": not applicable, "not_applicable": counts["not_applicable"],
                     "na_text": w("chart_na", lang, n=counts["not_applicable"]) if counts["not_applicable"] else ""})
    height = TOP * 2 + len(rows) * ROW_H
    return {"width": LABEL_W + BAR_W + AFTER_W, "height": height, "bar_x": LABEL_W, "bar_w": BAR_W,
            "bar_h": BAR_H, "after_x": LABEL_W + BAR_W + 8, "rows": rows, "drawn": DRAWN,
            "label": w("chart_label", lang)}
