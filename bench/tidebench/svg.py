"""Line charts as standalone SVG, written by hand (no plotting library)."""

import math
from xml.sax.saxutils import escape

PALETTE = {
    "tide": "#d62728",
    "glibc": "#1f77b4",
    "jemalloc": "#2ca02c",
    "jemalloc-bg": "#17becf",
    "mimalloc": "#9467bd",
    "tcmalloc": "#ff7f0e",
}
EXTRA = ["#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#637939"]


def colour(name, i):
    return PALETTE.get(name) or EXTRA[i % len(EXTRA)]


def nice_step(span, target_ticks=6):
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target_ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _fmt(v):
    if abs(v) >= 100 or v == int(v):
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}".rstrip("0").rstrip(".")


def line_chart(title, series, xlabel, ylabel, subtitle="", hlines=(), width=880, height=480):
    """series: list of dicts {label, points [(x, y)], colour?, dash?};
    hlines: list of (y, label). Returns the SVG text."""
    ml, mr, mt, mb = 72, 170, 56 if subtitle else 40, 52
    pw, ph = width - ml - mr, height - mt - mb
    xs = [x for s in series for x, _ in s["points"]]
    ys = [y for s in series for _, y in s["points"]] + [y for y, _ in hlines]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y0, y1 = (min(0.0, min(ys)), max(ys)) if ys else (0.0, 1.0)
    if x1 <= x0:
        x1 = x0 + 1
    if y1 <= y0:
        y1 = y0 + 1
    xstep, ystep = nice_step(x1 - x0), nice_step(y1 - y0)
    x0 = math.floor(x0 / xstep) * xstep
    x1 = math.ceil(x1 / xstep) * xstep
    y0 = math.floor(y0 / ystep) * ystep
    y1 = math.ceil(y1 * 1.02 / ystep) * ystep

    def X(x):
        return ml + (x - x0) / (x1 - x0) * pw

    def Y(y):
        return mt + ph - (y - y0) / (y1 - y0) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
           f'<text x="{ml}" y="22" font-size="16" font-weight="bold">{escape(title)}</text>']
    if subtitle:
        out.append(f'<text x="{ml}" y="40" fill="#555">{escape(subtitle)}</text>')
    # grid and ticks
    k = 0
    while True:
        v = y0 + k * ystep
        if v > y1 + ystep * 1e-9:
            break
        y = Y(v)
        out.append(f'<line x1="{ml}" y1="{y:.1f}" x2="{ml + pw}" y2="{y:.1f}" stroke="#e6e6e6"/>')
        out.append(f'<text x="{ml - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{_fmt(v)}</text>')
        k += 1
    k = 0
    while True:
        v = x0 + k * xstep
        if v > x1 + xstep * 1e-9:
            break
        x = X(v)
        out.append(f'<line x1="{x:.1f}" y1="{mt}" x2="{x:.1f}" y2="{mt + ph}" stroke="#f0f0f0"/>')
        out.append(f'<text x="{x:.1f}" y="{mt + ph + 16}" text-anchor="middle" fill="#333">{_fmt(v)}</text>')
        k += 1
    out.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
    out.append(f'<text x="{ml + pw / 2:.1f}" y="{height - 12}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(18,{mt + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
               f'{escape(ylabel)}</text>')
    for y, label in hlines:
        yy = Y(y)
        out.append(f'<line x1="{ml}" y1="{yy:.1f}" x2="{ml + pw}" y2="{yy:.1f}" stroke="#444" '
                   f'stroke-dasharray="2,3"/>')
        out.append(f'<text x="{ml + 4}" y="{yy - 4:.1f}" fill="#444" font-size="11">{escape(label)}</text>')
    # series
    ly = mt + 8
    for i, s in enumerate(series):
        c = s.get("colour") or colour(s["label"], i)
        dash = ' stroke-dasharray="6,4"' if s.get("dash") else ""
        pts = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in s["points"])
        if pts:
            out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2"{dash} points="{pts}">'
                       f'<title>{escape(s["label"])}</title></polyline>')
        lx = ml + pw + 14
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 22}" y2="{ly}" stroke="{c}" stroke-width="3"{dash}/>')
        out.append(f'<text x="{lx + 28}" y="{ly + 4}">{escape(s["label"])}</text>')
        ly += 18
    out.append("</svg>")
    return "\n".join(out) + "\n"
