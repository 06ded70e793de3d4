#!/usr/bin/env python3
"""soak_chart.py SAMPLES.json OUT.svg: the chart of a scripts/soak.sh run.

One row per phase, three panels per row: resident memory (MiB), open file
descriptors and threads over the phase's time, client and server as two
lines. The dashed vertical line is 20 % of the phase, where the pass rules
start; the shaded bands are each side's RSS value there +/- 10 %. Plain
Python (standard library only); the SVG is self-contained.
"""

import json
import math
import sys
from html import escape

COLORS = {"client": "#1f77b4", "server": "#d62728"}
METRICS = (("rss_kb", "RSS (MiB)", 1 / 1024), ("fds", "descriptors", 1), ("threads", "threads", 1))
PANEL_W, PANEL_H = 300, 130
PAD_L, PAD_R, PAD_T, PAD_B = 55, 15, 28, 28
ROW_LABEL_H = 22


def nice_step(v, whole):
    """A round step of at least v / 4 for a 4-step axis from 0 (whole numbers
    only when `whole`: counts of descriptors and threads)."""
    need = max(v / 4, 1e-9)
    mag = 10 ** math.floor(math.log10(need))
    for step in (1, 2, 2.5, 5, 10):
        if step * mag >= need and (not whole or float(step * mag).is_integer()):
            return step * mag
    return 10 * mag


def fmt(v):
    return f"{v:g}"


def panel(out, x0, y0, phase, samples, key, title, scale):
    duration = phase["duration_s"] or 1
    top = 0
    for s in samples:
        for side in COLORS:
            top = max(top, s[side][key] * scale)
    top = 4 * nice_step(top * 1.1, key != "rss_kb")
    w = PANEL_W - PAD_L - PAD_R
    h = PANEL_H - PAD_T - PAD_B

    def px(t):
        return x0 + PAD_L + w * min(max(t / duration, 0), 1)

    def py(v):
        return y0 + PAD_T + h * (1 - min(max(v / top, 0), 1))

    out.append(f'<text x="{x0 + PAD_L}" y="{y0 + PAD_T - 8}" class="t">{escape(title)}</text>')
    out.append(f'<rect x="{x0 + PAD_L}" y="{y0 + PAD_T}" width="{w}" height="{h}" class="frame"/>')
    for i in range(5):
        v = top * i / 4
        y = py(v)
        out.append(f'<line x1="{x0 + PAD_L}" x2="{x0 + PAD_L + w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{x0 + PAD_L - 5}" y="{y + 4:.1f}" class="ax" text-anchor="end">{fmt(v)}</text>')
    for i in range(5):
        t = duration * i / 4
        out.append(f'<text x="{px(t):.1f}" y="{y0 + PAD_T + h + 16}" class="ax" text-anchor="middle">{fmt(t)} s</text>')
    window = [s for s in samples if s["t_s"] >= 0.2 * duration - 1e-9]
    if key == "rss_kb" and window:
        t0 = window[0]["t_s"]
        for side, color in COLORS.items():
            ref = window[0][side]["rss_kb"] * scale
            hi = [(px(t), py(ref * 1.1)) for t in (t0, duration)]
            lo = [(px(t), py(ref * 0.9)) for t in (duration, t0)]
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in hi + lo)
            out.append(f'<polygon points="{pts}" fill="{color}" opacity="0.10"/>')
    x20 = px(0.2 * duration)
    out.append(f'<line x1="{x20:.1f}" x2="{x20:.1f}" y1="{y0 + PAD_T}" y2="{y0 + PAD_T + h}" class="mark"/>')
    for side, color in COLORS.items():
        pts = " ".join(f"{px(s['t_s']):.1f},{py(s[side][key] * scale):.1f}" for s in samples)
        if pts:
            out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>')


def main():
    if len(sys.argv) != 3:
        print("usage: soak_chart.py SAMPLES.json OUT.svg", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    phases = doc["phases"]
    width = PANEL_W * len(METRICS)
    row_h = ROW_LABEL_H + PANEL_H
    head = 50
    height = head + row_h * len(phases) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        "<style>.t{font-size:12px}.ax{font-size:10px;fill:#555}.h{font-size:15px;font-weight:bold}"
        ".frame{fill:none;stroke:#999}.grid{stroke:#eee}.mark{stroke:#444;stroke-dasharray:4 3}</style>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" class="h">soak: {doc["total_s"]:g} s in all, a sample every {doc["interval_s"]:g} s</text>',
    ]
    x = 10
    for side, color in COLORS.items():
        out.append(f'<line x1="{x}" x2="{x + 20}" y1="36" y2="36" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{x + 25}" y="40" class="t">{side}</text>')
        x += 80
    out.append(f'<text x="{x}" y="40" class="t">dashed: 20 % of the phase; bands: RSS at 20 % ± 10 %;'
               f' fork server: parent + children</text>')
    for row, phase in enumerate(phases):
        y0 = head + row * row_h
        rate = "" if phase["rate"] is None else f", -R {phase['rate']}"
        rps = phase["requests_per_sec"]
        label = (f"{phase['phase']}. {phase['model']}, {phase['loop']} loop, {phase['connections']} connections{rate}"
                 + ("" if rps is None else f": {rps:.0f} req/s, {phase['errors']} errors"))
        out.append(f'<text x="10" y="{y0 + 16}" class="t" font-weight="bold">{escape(label)}</text>')
        samples = [s for s in doc["samples"] if s["phase"] == phase["phase"]]
        for col, (key, title, scale) in enumerate(METRICS):
            panel(out, col * PANEL_W, y0 + ROW_LABEL_H - 8, phase, samples, key, title, scale)
    out.append("</svg>")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
