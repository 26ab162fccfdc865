"""The monthly report as CSV (the per-grid table) or as an HTML page readable on a phone."""

import csv
import io
from html import escape
from typing import Any

from services.ledger.reports.monthly import GRID_COLUMNS, GRID_RATES

LABELS = {
    "grid": "网格 grid",
    "registered": "受理 registered",
    "handled": "处置 handled",
    "closed": "结案 closed",
    "cancelled": "作废 cancelled",
    "transferred_out": "上转 transferred out",
    "reworked": "返工 reworked",
    "extended": "延期 extended",
    "overdue_open": "超期待处置 overdue open",
    "rated": "有效评价 rated",
    "handling_rate": "处置率",
    "closure_rate": "结案率",
    "satisfaction_rate": "满意率",
    "local_resolution_rate": "就地化解率",
}
TOTAL = "全社区 all grids"


def as_csv(report: dict[str, Any]) -> str:
    """The per-grid table with a total line; rates as fractions (0.9512)."""
    columns = ("grid", *GRID_COLUMNS, *GRID_RATES)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in report["grids"]:
        writer.writerow(["" if row[name] is None else row[name] for name in columns])
    total = {"grid": TOTAL, **report["counts"]}
    total.update({name: report["indicators"][name]["value"] for name in GRID_RATES})
    writer.writerow(["" if total.get(name) is None else total[name] for name in columns])
    return buffer.getvalue()


def percent(value: float | None) -> str:
    """0.9512 → 95.1 %; a missing rate (nothing to divide by) → —."""
    return "—" if value is None else f"{value * 100:.1f} %"


def as_html(report: dict[str, Any]) -> str:
    """A self-contained page: one column on a phone, tables scroll sideways when too wide."""
    counts = "".join(
        f"<div class=card><b>{report['counts'][name]}</b><span>{escape(LABELS[name])}</span></div>"
        for name in report["counts"]
    )
    indicator_rows = "".join(
        f"<tr><td>{escape(item['title'])}<small>{escape(name)}</small></td>"
        f"<td class=n>{percent(item['value'])}</td></tr>"
        for name, item in report["indicators"].items()
    )
    grid_rows = "".join(
        "<tr>"
        + f"<td>{escape(str(row['grid']))}</td>"
        + "".join(f"<td class=n>{row[name]}</td>" for name in GRID_COLUMNS)
        + "".join(f"<td class=n>{percent(row[name])}</td>" for name in GRID_RATES)
        + "</tr>"
        for row in report["grids"]
    )
    grid_head = "".join(f"<th>{escape(LABELS[name])}</th>" for name in ("grid", *GRID_COLUMNS))
    grid_head += "".join(f"<th>{escape(LABELS[name])}</th>" for name in GRID_RATES)
    category_rows = "".join(
        f"<tr><td>{escape(row['title'])}</td><td class=n>{row['registered']}</td>"
        f"<td class=n>{row['handled']}</td></tr>"
        for row in report["categories"]
    )
    composite = percent(report["composite"]["value"])
    head = report["ledger_head"]
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(report["title"])}</title>
<style>
body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;padding:1rem;
max-width:48rem;margin-inline:auto;line-height:1.5;color:#222}}
h1{{font-size:1.3rem}} h2{{font-size:1.1rem;margin-top:1.5rem}}
.cards{{display:grid;grid-template-columns:repeat(auto-fill,minmax(8rem,1fr));gap:.5rem}}
.card{{background:#f3f6f9;border-radius:.5rem;padding:.6rem}}
.card b{{display:block;font-size:1.4rem}} .card span{{font-size:.8rem;color:#555}}
.scroll{{overflow-x:auto}} table{{border-collapse:collapse;width:100%;font-size:.9rem}}
th,td{{border-bottom:1px solid #ddd;padding:.35rem .4rem;text-align:left;white-space:nowrap}}
td.n{{text-align:right}} small{{display:block;color:#777;font-size:.7rem}}
footer{{margin-top:2rem;font-size:.75rem;color:#666;word-break:break-all}}
</style></head><body>
<h1>{escape(report["title"])}</h1>
<p>{escape(report["from"][:10])} – {escape(report["to"][:10])} ({escape(report["timezone"])})</p>
<h2>数量 Counts</h2><div class=cards>{counts}</div>
<h2>指标 Indicators</h2><p>综合得分 composite: <b>{composite}</b></p>
<div class=scroll><table>{indicator_rows}</table></div>
<h2>各网格 By grid</h2>
<div class=scroll><table><tr>{grid_head}</tr>{grid_rows}</table></div>
<h2>按类别 By category</h2>
<div class=scroll><table><tr><th>类别 category</th><th>{escape(LABELS["registered"])}</th>
<th>{escape(LABELS["handled"])}</th></tr>{category_rows}</table></div>
<footer>台账校验锚点 ledger anchor: seq {head["seq"]}, sha256 {escape(head["hash"])}.
Generated {escape(report["generated_at"])}. No personal data: counts and rates only.</footer>
</body></html>
"""
