"""Renderings of a :class:`~flowrag.report.facts.Report`: Markdown (also the e-mail's text part),
HTML (files and the e-mail, with a chart of runs per day stacked by status), JSON, Slack Block Kit
and a Teams Adaptive Card. Every value from the sources is escaped for the format it goes into."""

from __future__ import annotations

import html
import io
import json
from datetime import date
from typing import Any

from flowrag.report.facts import Report

__all__ = [
    "STATUS_COLOURS",
    "chart_png",
    "chart_svg",
    "slack_blocks",
    "subject",
    "teams_card",
    "to_html",
    "to_json",
    "to_markdown",
]

STATUS_COLOURS = {
    "FAILED": "#d64541",
    "WARNING": "#f0ad4e",
    "CANCELLED": "#8e7cc3",
    "RUNNING": "#5bc0de",
    "SKIPPED": "#bbbbbb",
    "SUCCESS": "#4caf50",
}
_OTHER = "#888888"
_ORDER = tuple(STATUS_COLOURS)

_T: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Rapport flowrag du {day}",
        "runs": "{total} exécution(s) : {parts}",
        "no_runs": "Aucune exécution enregistrée ce jour-là.",
        "failures": "Échecs par flux",
        "no_failures": "Aucun échec.",
        "more_flows": "… et {n} autre(s) flux en échec.",
        "flow_line": "{count} échec(s), de {first} à {last}",
        "flow_once": "{count} échec à {first}",
        "host": "hôte(s)",
        "technology": "technologie",
        "cause": "cause",
        "template": "modèle",
        "cited": "sources",
        "new_errors": "Nouvelles erreurs",
        "no_new_errors": "Aucune nouvelle erreur.",
        "flows": "flux",
        "trends": "Tendances (par rapport à la moyenne des {n} jours précédents)",
        "no_trends": "Aucune variation notable.",
        "streaks": "En échec plusieurs jours de suite",
        "days": "{n} jours (depuis le {since})",
        "impacts": "Impacts",
        "technologies": "Technologies impactées",
        "delphix": "Objets Delphix liés aux échecs",
        "code": "Code lié aux flux en échec",
        "chart": "Exécutions par jour et par statut ({n} jours)",
        "synthesis": "Synthèse",
        "notes": "Remarques",
        "generated": "Généré le {at} ({tz}).",
        "up": "en hausse",
        "down": "en baisse",
        "new": "nouveau",
        "recovered": "rétabli",
        "stable": "stable",
        "mean": "moyenne {mean:.1f}/jour",
        "mean_period": "moyenne {mean:.1f}/période",
        "trends_period": "Tendances (par rapport à la moyenne des {n} périodes de {d} jours précédentes)",
        "subject": "[flowrag] Rapport du {day} : {failed} échec(s) sur {flows} flux",
        "pipeline": "flux",
    },
    "en": {
        "title": "flowrag report for {day}",
        "runs": "{total} run(s): {parts}",
        "no_runs": "No run recorded that day.",
        "failures": "Failures by flow",
        "no_failures": "No failure.",
        "more_flows": "… and {n} more failing flow(s).",
        "flow_line": "{count} failure(s), from {first} to {last}",
        "flow_once": "{count} failure at {first}",
        "host": "host(s)",
        "technology": "technology",
        "cause": "cause",
        "template": "template",
        "cited": "sources",
        "new_errors": "New errors",
        "no_new_errors": "No new error.",
        "flows": "flows",
        "trends": "Trends (against the mean of the previous {n} days)",
        "no_trends": "No notable change.",
        "streaks": "Failing several days in a row",
        "days": "{n} days (since {since})",
        "impacts": "Impacts",
        "technologies": "Technologies impacted",
        "delphix": "Delphix objects behind the failures",
        "code": "Code linked to the failing flows",
        "chart": "Runs per day by status ({n} days)",
        "synthesis": "Summary",
        "notes": "Notes",
        "generated": "Generated at {at} ({tz}).",
        "up": "up",
        "down": "down",
        "new": "new",
        "recovered": "recovered",
        "stable": "stable",
        "mean": "mean {mean:.1f}/day",
        "mean_period": "mean {mean:.1f}/period",
        "trends_period": "Trends (against the mean of the previous {n} periods of {d} days)",
        "subject": "[flowrag] Report for {day}: {failed} failure(s) across {flows} flow(s)",
        "pipeline": "flow",
    },
}


def _t(report: Report) -> dict[str, str]:
    return _T.get(report.language, _T["en"])


def period_text(report: Report) -> str:
    """The report's day, or its first and last days: "01/12/2026", "25/11/2026 au 01/12/2026"."""
    fr = report.language == "fr"

    def one(iso: str) -> str:
        return date.fromisoformat(iso).strftime("%d/%m/%Y") if fr else iso

    if report.days == 1:
        return one(report.day)
    return f"{one(report.first_day)} {'au' if fr else 'to'} {one(report.day)}"


def _day(report: Report) -> str:
    """The period, and the collections when the report counts only some."""
    text = period_text(report)
    return f"{text} ({', '.join(report.collections)})" if report.collections else text


def _trends_title(report: Report) -> str:
    t = _t(report)
    if report.days == 1:
        return t["trends"].format(n=report.trend_days)
    return t["trends_period"].format(n=report.trend_days, d=report.days)


def _mean(report: Report, mean: float) -> str:
    return _t(report)["mean" if report.days == 1 else "mean_period"].format(mean=mean)


def _time(iso: str, report: Report) -> str:
    """A UTC instant as the report zone's local time (HH:MM)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not iso:
        return "?"
    at = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(report.timezone))
    return at.strftime("%H:%M")


def _statuses(counts: dict[str, int]) -> list[str]:
    return sorted(counts, key=lambda s: (_ORDER.index(s) if s in _ORDER else len(_ORDER), s))


def _flow_head(report: Report, flow: Any) -> str:
    t = _t(report)
    first, last = _time(flow.first, report), _time(flow.last, report)
    if flow.count == 1:
        return t["flow_once"].format(count=flow.count, first=first)
    return t["flow_line"].format(count=flow.count, first=first, last=last)


def subject(report: Report) -> str:
    return _t(report)["subject"].format(day=_day(report), failed=report.failed, flows=report.failing_flows)


def _runs_line(report: Report) -> str:
    t = _t(report)
    total = sum(report.totals.values())
    if not total:
        return t["no_runs"]
    parts = ", ".join(f"{report.totals[s]} {s}" for s in _statuses(report.totals))
    return t["runs"].format(total=total, parts=parts)


def _md(text: str) -> str:
    """Source text inside Markdown: no markup it could inject."""
    out = " ".join(str(text).split())
    for ch in "\\`*[]<>|":  # intraword _ is not emphasis in CommonMark: names stay readable
        out = out.replace(ch, "\\" + ch)
    return out


def _trend_text(report: Report, trend: Any) -> str:
    t = _t(report)
    sep = " : " if report.language == "fr" else ": "
    return f"{t[trend.direction]}{sep}{trend.today} ({_mean(report, trend.mean)})"


def _teams(text: str) -> str:
    """Adaptive Card text renders a Markdown subset: a source's ``[text](url)`` must not become a link."""
    return " ".join(str(text).split()).replace("](", "] (")


def to_markdown(report: Report) -> str:
    t = _t(report)
    lines = [f"# {t['title'].format(day=_day(report))}", "", _runs_line(report), ""]
    if report.synthesis:
        lines += [f"## {t['synthesis']}", "", report.synthesis, ""]
    lines += [f"## {t['failures']}", ""]
    if not report.failures:
        lines.append(t["no_failures"])
    for flow in report.failures:
        head = _flow_head(report, flow)
        extra = []
        if flow.technology:
            extra.append(f"{t['technology']} {_md(flow.technology)}")
        if flow.hosts:
            extra.append(f"{t['host']} {_md(', '.join(flow.hosts))}")
        lines.append(f"- **{_md(flow.name)}** — {head}" + (f" ({'; '.join(extra)})" if extra else ""))
        for cause in flow.causes:
            cites = ", ".join(f"`{c}`" for c in cause.citations)
            lines.append(
                f"  - ×{cause.count} « {_md(cause.message)} » — {t['template']} : {_md(cause.template)} [{cites}]"
            )
    if report.failing_flows > len(report.failures):
        lines.append(t["more_flows"].format(n=report.failing_flows - len(report.failures)))
    lines += ["", f"## {t['new_errors']}", ""]
    if not report.new_errors:
        lines.append(t["no_new_errors"])
    for err in report.new_errors:
        lines.append(
            f"- ×{err.count} « {_md(err.message or err.template)} » — {t['flows']} {_md(', '.join(err.pipelines))} [`{err.citation}`]"
        )
    lines += ["", f"## {_trends_title(report)}", ""]
    if not report.trends:
        lines.append(t["no_trends"])
    for trend in report.trends:
        dim = t["pipeline"] if trend.dimension == "pipeline" else t["technology"]
        lines.append(f"- {dim} **{_md(trend.name)}** — {_trend_text(report, trend)}")
    if report.streaks:
        lines += ["", f"### {t['streaks']}", ""]
        for streak in report.streaks:
            lines.append(
                f"- **{_md(streak.pipeline)}** — {t['days'].format(n=streak.days, since=streak.since)}"
            )
    lines += ["", f"## {t['impacts']}", ""]
    if report.technologies:
        lines.append(
            f"- {t['technologies']} : " + ", ".join(f"{_md(n)} (×{c})" for n, c in report.technologies)
        )
    for obj in report.delphix:
        cites = ", ".join(f"`{c}`" for c in obj.citations)
        lines.append(
            f"- {t['delphix']} : {_md(obj.kind)} **{_md(obj.name)}** ({_md(', '.join(obj.pipelines))}) [{cites}]"
        )
    for link in report.code:
        lines.append(f"- {t['code']} : {_md(link.pipeline)} ← {link.label} `{link.provenance}`")
    lines += [
        "",
        f"## {t['chart'].format(n=len(report.chart))}",
        "",
        "| day | " + " | ".join(_chart_statuses(report)) + " |",
    ]
    lines.append("| --- |" + " --- |" * len(_chart_statuses(report)))
    for row in report.chart:
        lines.append(
            f"| {row.day} | " + " | ".join(str(row.counts.get(s, 0)) for s in _chart_statuses(report)) + " |"
        )
    if report.notes:
        lines += ["", f"## {t['notes']}", ""] + [f"- {_md(n)}" for n in report.notes]
    lines += ["", "_" + t["generated"].format(at=report.generated_at, tz=report.timezone) + "_", ""]
    return "\n".join(lines)


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def _chart_statuses(report: Report) -> list[str]:
    seen: dict[str, int] = {}
    for row in report.chart:
        for status, count in row.counts.items():
            seen[status] = seen.get(status, 0) + count
    return _statuses(seen) or ["FAILED", "SUCCESS"]


def chart_svg(report: Report, width: int = 640, height: int = 220) -> str:
    """Runs per day stacked by status, as inline SVG (browsers, the HTML file)."""
    statuses = _chart_statuses(report)
    top = max((sum(r.counts.values()) for r in report.chart), default=0) or 1
    left, bottom, legend = 36, 28, 18
    plot_h = height - bottom - legend - 6
    step = (width - left - 8) / max(len(report.chart), 1)
    bar = max(step * 0.7, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="10">',
        f"<title>{html.escape(_t(report)['chart'].format(n=len(report.chart)))}</title>",
        f'<text x="{left - 4}" y="{legend + 10}" text-anchor="end">{top}</text>',
        f'<text x="{left - 4}" y="{legend + plot_h}" text-anchor="end">0</text>',
        f'<line x1="{left}" y1="{legend + plot_h}" x2="{width - 4}" y2="{legend + plot_h}" stroke="#999"/>',
    ]
    for i, row in enumerate(report.chart):
        x = left + i * step + (step - bar) / 2
        y = float(legend + plot_h)
        for status in reversed(statuses):  # failures on top, where the eye lands
            count = row.counts.get(status, 0)
            if not count:
                continue
            h = plot_h * count / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{STATUS_COLOURS.get(status, _OTHER)}"><title>{html.escape(row.day)} {html.escape(status)}: {count}</title></rect>'
            )
        if i % max(1, len(report.chart) // 7) == 0 or i == len(report.chart) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 6}" text-anchor="middle">{html.escape(row.day[5:])}</text>'
            )
    x = left
    for status in statuses:
        parts.append(
            f'<rect x="{x}" y="4" width="10" height="10" fill="{STATUS_COLOURS.get(status, _OTHER)}"/>'
        )
        parts.append(f'<text x="{x + 13}" y="13">{html.escape(status)}</text>')
        x += 20 + 7 * len(status)
    parts.append("</svg>")
    return "".join(parts)


def chart_png(report: Report) -> bytes:
    """The same chart as a PNG (e-mail clients do not show inline SVG), drawn with matplotlib."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    statuses = _chart_statuses(report)
    days = [r.day[5:] for r in report.chart]
    fig = Figure(figsize=(7.2, 2.6), dpi=100)
    ax = fig.add_subplot()
    base = [0] * len(report.chart)
    for status in reversed(statuses):
        values = [r.counts.get(status, 0) for r in report.chart]
        ax.bar(days, values, bottom=base, color=STATUS_COLOURS.get(status, _OTHER), label=status, width=0.7)
        base = [b + v for b, v in zip(base, values, strict=True)]
    ax.set_title(_t(report)["chart"].format(n=len(report.chart)), fontsize=10)
    ax.tick_params(axis="x", labelsize=7, rotation=45)
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], fontsize=7, ncol=len(statuses), loc="upper left", frameon=False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _h(text: Any) -> str:
    return html.escape(" ".join(str(text).split()))


def to_html(report: Report, chart: str | None = None) -> str:
    """A self-contained page with inline styles (mail clients drop <style> blocks). ``chart`` is the
    chart's markup: inline SVG by default, ``<img src="cid:…">`` in an e-mail."""
    t = _t(report)
    chart = chart if chart is not None else chart_svg(report)
    red, grey = STATUS_COLOURS["FAILED"], "#666"
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{_h(report.language)}"><head><meta charset="utf-8"><title>{_h(subject(report))}</title></head>',
        '<body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#222;max-width:760px;margin:auto">',
        f'<h1 style="font-size:20px">{_h(t["title"].format(day=_day(report)))}</h1>',
        f"<p>{_h(_runs_line(report))}</p>",
    ]
    if report.synthesis:
        out.append(f'<h2 style="font-size:16px">{_h(t["synthesis"])}</h2><p>{_h(report.synthesis)}</p>')
    out.append(f'<h2 style="font-size:16px">{_h(t["failures"])}</h2>')
    if not report.failures:
        out.append(f"<p>{_h(t['no_failures'])}</p>")
    for flow in report.failures:
        head = _flow_head(report, flow)
        meta = " · ".join(
            x
            for x in (
                f"{t['technology']} {_h(flow.technology)}" if flow.technology else "",
                f"{t['host']} {_h(', '.join(flow.hosts))}" if flow.hosts else "",
            )
            if x
        )
        out.append(
            f'<div style="border-left:4px solid {red};padding:4px 10px;margin:8px 0">'
            f"<b>{_h(flow.name)}</b> — {_h(head)}"
            + (f'<br><span style="color:{grey}">{meta}</span>' if meta else "")
            + "<ul style='margin:4px 0'>"
        )
        for cause in flow.causes:
            cites = ", ".join(f"<code>{_h(c)}</code>" for c in cause.citations)
            out.append(
                f"<li>×{cause.count} « {_h(cause.message)} »<br>"
                f'<span style="color:{grey};font-size:12px">{_h(t["template"])} : {_h(cause.template)} — {cites}</span></li>'
            )
        out.append("</ul></div>")
    if report.failing_flows > len(report.failures):
        out.append(f"<p>{_h(t['more_flows'].format(n=report.failing_flows - len(report.failures)))}</p>")
    out.append(
        f'<h2 style="font-size:16px">{_h(t["chart"].format(n=len(report.chart)))}</h2><div>{chart}</div>'
    )
    out.append(f'<h2 style="font-size:16px">{_h(t["new_errors"])}</h2>')
    if report.new_errors:
        out.append("<ul>")
        for err in report.new_errors:
            out.append(
                f"<li>×{err.count} « {_h(err.message or err.template)} » — {_h(t['flows'])} "
                f"{_h(', '.join(err.pipelines))} <code>{_h(err.citation)}</code></li>"
            )
        out.append("</ul>")
    else:
        out.append(f"<p>{_h(t['no_new_errors'])}</p>")
    out.append(f'<h2 style="font-size:16px">{_h(_trends_title(report))}</h2>')
    if report.trends:
        out.append('<table style="border-collapse:collapse">')
        for trend in report.trends:
            dim = t["pipeline"] if trend.dimension == "pipeline" else t["technology"]
            colour = red if trend.direction in ("up", "new") else STATUS_COLOURS["SUCCESS"]
            out.append(
                f'<tr><td style="padding:2px 8px;color:{grey}">{_h(dim)}</td><td style="padding:2px 8px"><b>{_h(trend.name)}</b></td>'
                f'<td style="padding:2px 8px;color:{colour}">{_h(t[trend.direction])}</td>'
                f'<td style="padding:2px 8px">{trend.today} ({_h(_mean(report, trend.mean))})</td></tr>'
            )
        out.append("</table>")
    else:
        out.append(f"<p>{_h(t['no_trends'])}</p>")
    if report.streaks:
        out.append(f'<h3 style="font-size:14px">{_h(t["streaks"])}</h3><ul>')
        for streak in report.streaks:
            out.append(
                f"<li><b>{_h(streak.pipeline)}</b> — {_h(t['days'].format(n=streak.days, since=streak.since))}</li>"
            )
        out.append("</ul>")
    out.append(f'<h2 style="font-size:16px">{_h(t["impacts"])}</h2><ul>')
    if report.technologies:
        techs = ", ".join(f"{_h(n)} (×{c})" for n, c in report.technologies)
        out.append(f"<li>{_h(t['technologies'])} : {techs}</li>")
    for obj in report.delphix:
        cites = ", ".join(f"<code>{_h(c)}</code>" for c in obj.citations)
        out.append(
            f"<li>{_h(t['delphix'])} : {_h(obj.kind)} <b>{_h(obj.name)}</b> ({_h(', '.join(obj.pipelines))}) {cites}</li>"
        )
    for link in report.code:
        out.append(
            f"<li>{_h(t['code'])} : {_h(link.pipeline)} ← {_h(link.label)} <code>{_h(link.provenance)}</code></li>"
        )
    out.append("</ul>")
    if report.notes:
        out.append(
            f'<h2 style="font-size:16px">{_h(t["notes"])}</h2><ul>'
            + "".join(f"<li>{_h(n)}</li>" for n in report.notes)
            + "</ul>"
        )
    out.append(
        f'<p style="color:{grey};font-size:12px">{_h(t["generated"].format(at=report.generated_at, tz=report.timezone))}</p>'
    )
    out.append("</body></html>")
    return "\n".join(out)


def _slack(text: str) -> str:
    """Slack mrkdwn escapes exactly &, < and > (api.slack.com/reference/surfaces/formatting)."""
    return " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_blocks(report: Report, max_flows: int = 10) -> list[dict[str, Any]]:
    """Block Kit: a header, the day's figures and summary, one section per failing flow (at most
    ``max_flows``), trends and impacts; within Slack's limits (50 blocks, 3000 characters a text)."""
    t = _t(report)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(t["title"].format(day=_day(report)), 150)},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(_slack(_runs_line(report)), 3000)}},
    ]
    if report.synthesis:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(_slack(report.synthesis), 3000)}}
        )
    blocks.append({"type": "divider"})
    for flow in report.failures[:max_flows]:
        head = _flow_head(report, flow)
        lines = [f"*{_slack(flow.name)}* — {_slack(head)}"]
        for cause in flow.causes:
            cites = ", ".join(f"`{_slack(c)}`" for c in cause.citations)
            lines.append(f"• ×{cause.count} {_slack(cause.message)} {cites}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), 3000)}})
    hidden = report.failing_flows - min(len(report.failures), max_flows)
    if hidden > 0:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _slack(t["more_flows"].format(n=hidden))}],
            }
        )
    facts = []
    if report.new_errors:
        facts.append(
            f"*{_slack(t['new_errors'])}* : "
            + "; ".join(_slack(e.message or e.template)[:200] for e in report.new_errors[:5])
        )
    moving = [x for x in report.trends if x.direction in ("up", "new", "recovered")]
    if moving:
        facts.append(
            f"*{_slack(_trends_title(report))}* : "
            + ", ".join(f"{_slack(x.name)} ({t[x.direction]})" for x in moving[:10])
        )
    if report.streaks:
        facts.append(
            f"*{_slack(t['streaks'])}* : "
            + ", ".join(f"{_slack(s.pipeline)} ({s.days})" for s in report.streaks[:10])
        )
    if report.technologies:
        facts.append(
            f"*{_slack(t['technologies'])}* : "
            + ", ".join(f"{_slack(n)} (×{c})" for n, c in report.technologies)
        )
    if report.delphix:
        facts.append(
            f"*{_slack(t['delphix'])}* : "
            + ", ".join(f"{_slack(o.kind)} {_slack(o.name)}" for o in report.delphix[:10])
        )
    if facts:
        blocks += [
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut("\n".join(facts), 3000)}},
        ]
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _slack(t["generated"].format(at=report.generated_at, tz=report.timezone)),
                }
            ],
        }
    )
    return blocks[:50]


def teams_card(report: Report, max_flows: int = 10) -> dict[str, Any]:
    """A Teams message carrying one Adaptive Card (schema 1.4: TextBlock, FactSet, Container)."""
    t = _t(report)
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": t["title"].format(day=_day(report)),
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
        },
        {"type": "TextBlock", "text": _runs_line(report), "wrap": True},
    ]
    if report.synthesis:
        body.append({"type": "TextBlock", "text": _teams(report.synthesis), "wrap": True})
    if report.failures:
        body.append(
            {"type": "TextBlock", "text": t["failures"], "weight": "Bolder", "wrap": True, "separator": True}
        )
    for flow in report.failures[:max_flows]:
        head = _flow_head(report, flow)
        items: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": _teams(f"{flow.name} — {head}"), "weight": "Bolder", "wrap": True}
        ]
        for cause in flow.causes:
            items.append(
                {
                    "type": "TextBlock",
                    "text": _teams(f"×{cause.count} {cause.message} ({', '.join(cause.citations)})"),
                    "wrap": True,
                    "isSubtle": True,
                    "spacing": "None",
                }
            )
        body.append({"type": "Container", "items": items, "style": "attention"})
    facts = []
    if report.new_errors:
        facts.append({"title": t["new_errors"], "value": str(len(report.new_errors))})
    moving = [x for x in report.trends if x.direction in ("up", "new", "recovered")]
    if moving:
        facts.append(
            {
                "title": _trends_title(report),
                "value": ", ".join(f"{x.name} ({t[x.direction]})" for x in moving[:10]),
            }
        )
    if report.streaks:
        facts.append(
            {
                "title": t["streaks"],
                "value": ", ".join(f"{s.pipeline} ({s.days})" for s in report.streaks[:10]),
            }
        )
    if report.technologies:
        facts.append(
            {"title": t["technologies"], "value": ", ".join(f"{n} (×{c})" for n, c in report.technologies)}
        )
    if report.delphix:
        facts.append(
            {"title": t["delphix"], "value": ", ".join(f"{o.kind} {o.name}" for o in report.delphix[:10])}
        )
    if facts:
        facts = [{"title": f["title"], "value": _teams(f["value"])} for f in facts]
        body.append({"type": "FactSet", "facts": facts, "separator": True})
    body.append(
        {
            "type": "TextBlock",
            "text": t["generated"].format(at=report.generated_at, tz=report.timezone),
            "isSubtle": True,
            "size": "Small",
            "wrap": True,
        }
    )
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }
        ],
    }
