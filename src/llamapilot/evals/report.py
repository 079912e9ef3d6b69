"""``llamapilot eval report``: one self-contained HTML page comparing runs.

Tables of every benchmark's summary side by side, a bar chart of pass@k per backend and the
latency distributions, drawn as inline SVG (no scripts, no CDN, no plotting library).
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llamapilot.errors import InputError
from llamapilot.evals import humaneval, infill, latency, nextline
from llamapilot.evals.store import RunStore

SUMMARIZERS = {
    "humaneval": humaneval.summarize,
    "infill": infill.summarize,
    "nextline": nextline.summarize,
    "latency": latency.summarize,
}
COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")


@dataclass
class Run:
    label: str
    bench: str
    meta: dict[str, Any]
    records: list[dict[str, Any]]
    summary: dict[str, Any]


def load_runs(dirs: list[Path]) -> list[Run]:
    runs = []
    for d in dirs:
        store = RunStore(Path(d))
        if not store.root.is_dir():
            raise InputError(f"{d}: no such directory", param="dirs")
        for bench in store.benches():
            if bench not in SUMMARIZERS:
                continue
            meta, records = store.meta(bench), store.load(bench)
            label = f"{meta.get('backend', '?')} · {meta.get('model', '?')} ({Path(d).name})"
            runs.append(Run(label, bench, meta, records, SUMMARIZERS[bench](records)))
    if not runs:
        raise InputError("no evaluation results in " + ", ".join(map(str, dirs)))
    return runs


def _e(x: object) -> str:
    return html.escape(str(x))


def _flatten(d: dict[str, Any], pre: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{pre}{k} "))
        else:
            out[f"{pre}{k}"] = v
    return out


def _fmt(key: str, v: Any) -> str:
    if isinstance(v, float) and ("pass@" in key or "exact" in key or "similarity" in key):
        return f"{100 * v:.1f}%"
    return _e(v)


def table(runs: list[Run]) -> str:
    rows = [(r.label, _flatten(r.summary)) for r in runs]
    keys: list[str] = []
    for _, s in rows:
        keys += [k for k in s if k not in keys]
    head = "".join(f"<th>{_e(k)}</th>" for k in keys)
    body = "".join(
        f"<tr><td>{_e(label)}</td>"
        + "".join(f"<td>{_fmt(k, s[k]) if k in s else ''}</td>" for k in keys)
        + "</tr>"
        for label, s in rows
    )
    return f"<table><tr><th>run</th>{head}</tr>{body}</table>"


def bar_chart(title: str, groups: list[str], series: list[tuple[str, list[float]]]) -> str:
    """Grouped bars, values 0..1, as an SVG element."""
    w, h, left, bottom, top = 640, 280, 50, 40, 30
    pw, ph = w - left - 20, h - bottom - top
    n = max(1, len(series))
    gw = pw / max(1, len(groups))
    bw = gw * 0.8 / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">',
        f'<text x="{w / 2}" y="18" text-anchor="middle" font-weight="bold">{_e(title)}</text>',
    ]
    for i in range(6):
        y = top + ph - ph * i / 5
        parts.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y}" y2="{y}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" font-size="11">'
            f"{20 * i}%</text>"
        )
    for gi, g in enumerate(groups):
        x0 = left + gi * gw + gw * 0.1
        parts.append(
            f'<text x="{left + gi * gw + gw / 2}" y="{top + ph + 16}" '
            f'text-anchor="middle" font-size="12">{_e(g)}</text>'
        )
        for si, (name, vals) in enumerate(series):
            v = vals[gi] if gi < len(vals) else float("nan")
            if v != v:  # NaN: not measured
                continue
            bh = ph * max(0.0, min(1.0, v))
            x = x0 + si * bw
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{top + ph - bh:.1f}" '
                f'width="{bw - 2:.1f}" height="{bh:.1f}" fill="{COLORS[si % 7]}">'
                f"<title>{_e(name)}: {100 * v:.1f}%</title></rect>"
                f'<text x="{x + bw / 2:.1f}" y="{top + ph - bh - 3:.1f}" '
                f'text-anchor="middle" font-size="10">{100 * v:.1f}</text>'
            )
    parts.append("</svg>")
    return "".join(parts) + legend(series)


def legend(series: list[tuple[str, Any]]) -> str:
    return (
        '<div class="legend">'
        + "".join(
            f'<span><i style="background:{COLORS[i % 7]}"></i>{_e(name)}</span>'
            for i, (name, _) in enumerate(series)
        )
        + "</div>"
    )


def latency_chart(runs: list[Run]) -> str:
    """Empirical CDF of warm time-to-suggestion per run, log-scaled milliseconds."""
    import math

    w, h, left, bottom, top = 640, 280, 50, 40, 30
    pw, ph = w - left - 20, h - bottom - top
    all_ms = [r["ms"] for run in runs for r in run.records if r.get("ms", 0) > 0]
    if not all_ms:
        return ""
    lo, hi = math.log10(max(1.0, min(all_ms))), math.log10(max(all_ms) * 1.1)
    hi = max(hi, lo + 1)
    sx = lambda ms: left + pw * (math.log10(max(ms, 1.0)) - lo) / (hi - lo)  # noqa: E731
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">',
        f'<text x="{w / 2}" y="18" text-anchor="middle" font-weight="bold">'
        "Time to suggestion (warm), cumulative share of keystrokes</text>",
    ]
    for e in range(math.floor(lo), math.ceil(hi) + 1):
        if lo <= e <= hi:
            x = sx(10**e)
            parts.append(
                f'<line x1="{x}" x2="{x}" y1="{top}" y2="{top + ph}" stroke="#ddd"/>'
                f'<text x="{x}" y="{top + ph + 16}" text-anchor="middle" '
                f'font-size="11">{10**e:g} ms</text>'
            )
    for i in range(5):
        y = top + ph - ph * i / 4
        parts.append(
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" font-size="11">{25 * i}%</text>'
        )
    series = []
    for i, run in enumerate(runs):
        xs = sorted(r["ms"] for r in run.records if not r.get("cold"))
        if not xs:
            continue
        pts = " ".join(
            f"{sx(v):.1f},{top + ph - ph * (j + 1) / len(xs):.1f}" for j, v in enumerate(xs)
        )
        parts.append(
            f'<polyline class="cdf" points="{pts}" fill="none" stroke-width="2" '
            f'stroke="{COLORS[i % 7]}"/>'
        )
        series.append((run.label, None))
    parts.append("</svg>")
    return "".join(parts) + legend(series)


CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}
.legend span{margin-right:1.2em;font-size:13px}.legend i{display:inline-block;width:12px;
height:12px;margin-right:4px;vertical-align:middle}figure{margin:1em 0}
"""


def render(runs: list[Run]) -> str:
    sections = []
    for bench in ("humaneval", "infill", "nextline", "latency"):
        rs = [r for r in runs if r.bench == bench]
        if not rs:
            continue
        body = table(rs)
        if bench == "humaneval":
            ks = [
                f"pass@{k}"
                for k in (1, 2, 5, 10, 20, 50, 100)
                if any(f"pass@{k}" in r.summary for r in rs)
            ]
            series = [(r.label, [r.summary.get(k, float("nan")) for k in ks]) for r in rs]
            body += f"<figure>{bar_chart('HumanEval pass@k', ks, series)}</figure>"
        elif bench == "infill":
            groups = ["single-line pass@1", "multi-line pass@1", "single-line EM", "multi-line EM"]
            series = [
                (
                    r.label,
                    [
                        r.summary.get(g.split()[0], {}).get(
                            "pass@1" if g.endswith("pass@1") else "exact_match", float("nan")
                        )
                        for g in groups
                    ],
                )
                for r in rs
            ]
            body += f"<figure>{bar_chart('HumanEval infilling', groups, series)}</figure>"
        elif bench == "nextline":
            groups = ["EM", "ES", "EM + retrieval", "ES + retrieval"]
            series = [
                (
                    r.label,
                    [
                        r.summary.get("retrieval" if "retr" in g else "plain", {}).get(
                            "exact_match" if g.startswith("EM") else "edit_similarity", float("nan")
                        )
                        for g in groups
                    ],
                )
                for r in rs
            ]
            body += f"<figure>{bar_chart('Next-line completion', groups, series)}</figure>"
        else:
            body += f"<figure>{latency_chart(rs)}</figure>"
        sections.append(f"<h2>{_e(bench)}</h2>{body}")
    setups = "".join(
        f"<li><b>{_e(r.label)}</b> — {_e(r.bench)}: "
        + ", ".join(f"{_e(k)}={_e(v)}" for k, v in r.meta.items() if not isinstance(v, dict))
        + "</li>"
        for r in runs
    )
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>llamapilot evaluation</title><style>{CSS}</style></head><body>"
        f"<h1>llamapilot evaluation</h1><p>Generated {stamp}.</p>{''.join(sections)}"
        f"<h2>Setups</h2><ul>{setups}</ul></body></html>\n"
    )


def write_report(dirs: list[Path], out: Path) -> Path:
    out.write_text(render(load_runs(dirs)), encoding="utf-8")
    return out
