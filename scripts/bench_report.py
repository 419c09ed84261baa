#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Figures for scripts/bench (python3 standard library only; prints, never asserts).

  bench_report.py floor-sizes RUNS.jsonl
      the mean bytes per fetched id of each workload (the block size the kernel
      floor is measured at), one per line, deduplicated
  bench_report.py report RUNS.jsonl FLOOR.jsonl META.json OUT.json OUT.svg
      the table on stdout; saves the figures as OUT.json and the picture as OUT.svg
  bench_report.py compare OLD.json NEW.json [OUT.svg]
      before/after of two saved runs, as a table and (with OUT.svg) a picture

RUNS.jsonl: one object per workload run: {"workload", "description", "args",
"bench": shuffle-bench's JSON, "daemon_cpu_s", "daemon_rss_mib", "daemon_peak_rss_mib",
"daemon_user_s", "daemon_sys_s", "daemon_ctx_switches", "profile": [[percent, symbol], ...]
and "profiler" (optional)}; entries with "profile_only" carry a profile and no figures.
FLOOR.jsonl: {"mode", "bytes", "us_per_block", "us_min", "us_max", ...} per measured size and
mode: "1cpu" (sender and reader pinned to one CPU: stable, the lowest) or "free" (unpinned;
a cross-CPU wake-up per block on top, so it swings between the two levels).

Per block means per manifest block (a batch id of 10 reduces is 10 blocks). The floor is
sendfile-floor's sender CPU for one id of the workload's mean id size, spread over the
blocks in it, so "x floor" compares like with like in every mode; it divides by the "1cpu"
floor when there is one."""
import html
import json
import math
import statistics
import sys


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def id_bytes(bench):
    """Mean bytes per fetched id (a block, or a batch range of blocks)."""
    chunks = bench.get("chunks") or bench["blocks"]
    return bench["bytes"] / chunks if chunks else 0


def round_size(n):
    """Two significant figures, so runs of one workload share a floor measurement."""
    if n <= 0:
        return 0
    digits = int(math.floor(math.log10(n))) - 1
    return int(round(n / 10**digits) * 10**digits)


def floor_sizes(runs_path):
    sizes = []
    for r in load_jsonl(runs_path):
        if r.get("profile_only"):
            continue
        s = round_size(id_bytes(r["bench"]))
        if s and s not in sizes:
            sizes.append(s)
    for s in sizes:
        print(s)


def figures(run):
    """The per-run figures the table and the JSON hold."""
    b = run["bench"]
    blocks, secs = b["blocks"], b["seconds"]
    gb = b["bytes"] / 1e9
    client = b.get("client_cpu_s", {}).get("total")
    f = {
        "blocks_per_s": b["blocks_per_s"],
        "mb_per_s": b["mb_per_s"],
        "p50_ms": b["latency_ms"]["p50"],
        "p99_ms": b["latency_ms"]["p99"],
        "errors": b["errors"] + b["verify_errors"],
        "blocks": blocks,
        "ids": b.get("chunks", blocks),
        "seconds": secs,
        "id_bytes": id_bytes(b),
        "daemon_cpu_s": run["daemon_cpu_s"],
        "daemon_sys_share": (run["daemon_sys_s"] / run["daemon_cpu_s"]
                             if run.get("daemon_sys_s") is not None and run["daemon_cpu_s"] else None),
        "daemon_ctx_switches_per_block": (run["daemon_ctx_switches"] / blocks
                                          if run.get("daemon_ctx_switches") is not None and blocks
                                          else None),
        "daemon_us_per_block": 1e6 * run["daemon_cpu_s"] / blocks if blocks else None,
        "daemon_cpu_s_per_gb": run["daemon_cpu_s"] / gb if gb else None,
        "client_cpu_s": client,
        "client_us_per_block": 1e6 * client / blocks if blocks and client is not None else None,
        "client_cpu_s_per_gb": client / gb if gb and client is not None else None,
        "daemon_rss_mib": run["daemon_rss_mib"],
        "daemon_peak_rss_mib": run["daemon_peak_rss_mib"],
    }
    return f


def median_of(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def nearest_floor(floors, mode, id_bytes):
    """The floor of mode measured nearest to id_bytes (repeats may round differently)."""
    same = [f for f in floors if f.get("mode", "free") == mode]
    if not same or not id_bytes:
        return None
    return min(same, key=lambda f: abs(math.log(f["bytes"] / id_bytes)))


def summarize(runs, floors):
    """Groups runs by workload (in first-seen order); median of each figure, the spread of
    daemon us/block, and the floor beside it."""
    by_name = {}
    for r in runs:
        w = by_name.setdefault(r["workload"], {"workload": r["workload"],
                                               "description": r.get("description", ""),
                                               "args": r.get("args", ""), "runs": []})
        if r.get("profile"):
            w["profile"] = r["profile"]
            w["profiler"] = r.get("profiler", "")
        if not r.get("profile_only"):
            w["runs"].append(r)
    by_name = {k: w for k, w in by_name.items() if w["runs"]}
    out = []
    for w in by_name.values():
        per_run = [figures(r) for r in w["runs"]]
        med = {k: median_of([p[k] for p in per_run]) for k in per_run[0]}
        us = [p["daemon_us_per_block"] for p in per_run if p["daemon_us_per_block"] is not None]
        med["daemon_us_per_block_min"] = min(us) if us else None
        med["daemon_us_per_block_max"] = max(us) if us else None
        blocks_per_id = med["blocks"] / med["ids"] if med["ids"] else 1
        for mode, key in (("1cpu", "floor_us_per_block"), ("free", "floor_free_us_per_block")):
            fl = nearest_floor(floors, mode, med["id_bytes"])
            if fl and med["blocks"]:
                med["floor_id_bytes"] = fl["bytes"]
                med[key] = fl["us_per_block"] / blocks_per_id
        if "floor_us_per_block" not in med and "floor_free_us_per_block" in med:
            med["floor_us_per_block"] = med["floor_free_us_per_block"] # no taskset: free only
        if med["daemon_us_per_block"] is not None and med.get("floor_us_per_block"):
            med["x_floor"] = med["daemon_us_per_block"] / med["floor_us_per_block"]
        w["figures"] = med
        w["per_run"] = per_run
        out.append(w)
    return out


def fmt(v, spec, width):
    return f"{'-':>{width}}" if v is None else f"{v:{width}{spec}}"


def pct(v, width):
    return f"{'-':>{width}}" if v is None else f"{100 * v:{width - 1}.0f}%"


def print_table(workloads):
    head = (f"{'workload':18s} {'blocks/s':>9s} {'MB/s':>7s} {'p50ms':>7s} {'p99ms':>7s} "
            f"{'d_us/blk':>9s} {'spread':>11s} {'d_s/GB':>7s} {'d_sys':>5s} {'d_cs/blk':>8s} "
            f"{'c_us/blk':>8s} {'c_s/GB':>7s} {'floor1':>7s} {'floor2':>7s} {'xfloor':>6s} "
            f"{'rssMiB':>6s} {'err':>4s}")
    print(head)
    for w in workloads:
        f = w["figures"]
        spread = "-"
        if len(w["runs"]) > 1 and f["daemon_us_per_block_min"] is not None:
            spread = f"{f['daemon_us_per_block_min']:.1f}-{f['daemon_us_per_block_max']:.1f}"
        print(f"{w['workload']:18s} {fmt(f['blocks_per_s'], '.0f', 9)} {fmt(f['mb_per_s'], '.0f', 7)} "
              f"{fmt(f['p50_ms'], '.2f', 7)} {fmt(f['p99_ms'], '.2f', 7)} "
              f"{fmt(f['daemon_us_per_block'], '.2f', 9)} {spread:>11s} "
              f"{fmt(f['daemon_cpu_s_per_gb'], '.3f', 7)} {pct(f['daemon_sys_share'], 5)} "
              f"{fmt(f['daemon_ctx_switches_per_block'], '.2f', 8)} "
              f"{fmt(f['client_us_per_block'], '.2f', 8)} {fmt(f['client_cpu_s_per_gb'], '.3f', 7)} "
              f"{fmt(f.get('floor_us_per_block'), '.2f', 7)} "
              f"{fmt(f.get('floor_free_us_per_block'), '.2f', 7)} "
              f"{fmt(f.get('x_floor'), '.2f', 6)} {fmt(f['daemon_peak_rss_mib'], '.1f', 6)} "
              f"{int(f['errors']):4d}")
    print("d_ = daemon (shuffled), c_ = client (shuffle-bench: libshuffle's loop + the load\n"
          "generator); us/blk = CPU us per block; s/GB = CPU-seconds per GB; d_sys = the kernel's\n"
          "share of the daemon's CPU; d_cs/blk = the daemon's context switches per block (all\n"
          "threads); floor1 / floor2 = sendfile-floor's CPU per block at the mean id size, pinned\n"
          "to one CPU / unpinned; xfloor = d_us/blk / floor1; spread = min-max of d_us/blk over\n"
          "the repeats; rssMiB = daemon peak RSS since start; figures are medians of the repeats")


def svg_bars(title, rows, series, path, note):
    """Horizontal grouped bars on a log10 axis of us per block. rows: [(label, [value per
    series], (series index, note after that bar's value) or None, [(min, max) or None per
    series] or None)]; series: [(name, colour)]. A min-max range is drawn as a whisker."""
    values = [v for _, vs, _, rg in rows for v in vs + [x for r in (rg or []) if r for x in r] if v]
    lo = 10 ** math.floor(math.log10(min(values) / 2)) if values else 0.1
    hi = 10 ** math.ceil(math.log10(max(values))) if values else 100
    if hi <= lo:
        hi = lo * 10
    left, plot_w, bar_h, gap = 170, 560, 14, 12
    group_h = bar_h * len(series) + gap
    top = 56
    height = top + group_h * len(rows) + 60
    width = left + plot_w + 90

    def x(v):
        return left + plot_w * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    e = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="20" font-size="15" font-weight="bold">{e(title)}</text>',
           f'<text x="10" y="38" fill="#555">{e(note)}</text>']
    decade = lo
    while decade <= hi * 1.0001:
        for m in (1, 2, 5):
            t = decade * m
            if t > hi * 1.0001:
                break
            gx = x(t)
            out.append(f'<line x1="{gx:.1f}" y1="{top - 6}" x2="{gx:.1f}" '
                       f'y2="{top + group_h * len(rows)}" stroke="{"#bbb" if m == 1 else "#eee"}"/>')
            out.append(f'<text x="{gx:.1f}" y="{top + group_h * len(rows) + 14}" '
                           f'text-anchor="middle" fill="#555">{t:g}</text>')
        decade *= 10
    out.append(f'<text x="{left + plot_w / 2}" y="{top + group_h * len(rows) + 32}" '
               f'text-anchor="middle">CPU µs per block (log scale)</text>')
    for i, (label, vals, row_note, ranges) in enumerate(rows):
        gy = top + i * group_h
        out.append(f'<text x="{left - 8}" y="{gy + bar_h * len(series) / 2 + 4}" '
                   f'text-anchor="end">{e(label)}</text>')
        for j, ((name, colour), v) in enumerate(zip(series, vals)):
            y = gy + j * bar_h
            if not v:
                out.append(f'<text x="{left + 4}" y="{y + bar_h - 3}" fill="#999">{e(name)}: -</text>')
                continue
            w = max(1.0, x(v) - left)
            out.append(f'<rect x="{left}" y="{y + 1}" width="{w:.1f}" height="{bar_h - 2}" '
                       f'fill="{colour}"><title>{e(name)}: {v:.2f} µs</title></rect>')
            rg = ranges[j] if ranges and j < len(ranges) else None
            if rg and rg[0] and rg[1] and rg[1] > rg[0]:
                cy = y + bar_h / 2
                out.append(f'<line x1="{x(rg[0]):.1f}" y1="{cy}" x2="{x(rg[1]):.1f}" y2="{cy}" '
                           f'stroke="black"/>')
                for end in rg:
                    out.append(f'<line x1="{x(end):.1f}" y1="{cy - 4}" x2="{x(end):.1f}" '
                               f'y2="{cy + 4}" stroke="black"/>')
                w = max(w, x(rg[1]) - left)
            extra = f"  ({row_note[1]})" if row_note and j == row_note[0] else ""
            out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 3}">{v:.2f}{e(extra)}</text>')
    ly = top + group_h * len(rows) + 48
    lx = left
    for name, colour in series:
        out.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly}">{e(name)}</text>')
        lx += 30 + 7 * len(name)
    out.append('</svg>')
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def daemon_range(f):
    lo, hi = f.get("daemon_us_per_block_min"), f.get("daemon_us_per_block_max")
    return (lo, hi) if lo is not None and hi is not None and hi > lo else None


def print_security_table(workloads):
    """Each encrypted run NAME@MODE beside its plain NAME: throughput kept, CPU per GB paid."""
    by_name = {w["workload"]: w["figures"] for w in workloads}
    pairs = [(w["workload"].split("@", 1), w["figures"]) for w in workloads if "@" in w["workload"]]
    pairs = [(base, mode, by_name.get(base), f) for (base, mode), f in pairs]
    if not pairs:
        return
    print(f"\n{'plain vs encrypted':18s} {'mode':10s} {'blocks/s':>17s} {'MB/s':>13s} "
          f"{'p99ms':>13s} {'d_s/GB':>13s} {'MB/s kept':>9s} {'CPU/GB x':>8s}")
    for base, mode, p, e in pairs:
        if p is None:
            continue
        kept = e["mb_per_s"] / p["mb_per_s"] if p["mb_per_s"] else None
        cost = (e["daemon_cpu_s_per_gb"] / p["daemon_cpu_s_per_gb"]
                if e["daemon_cpu_s_per_gb"] and p["daemon_cpu_s_per_gb"] else None)
        print(f"{base:18s} {mode:10s} {fmt(p['blocks_per_s'], '.0f', 8)} {fmt(e['blocks_per_s'], '.0f', 8)} "
              f"{fmt(p['mb_per_s'], '.0f', 6)} {fmt(e['mb_per_s'], '.0f', 6)} "
              f"{fmt(p['p99_ms'], '.2f', 6)} {fmt(e['p99_ms'], '.2f', 6)} "
              f"{fmt(p['daemon_cpu_s_per_gb'], '.3f', 6)} {fmt(e['daemon_cpu_s_per_gb'], '.3f', 6)} "
              f"{pct(kept, 9)} {fmt(cost, '.2f', 8)}")
    print("(each pair: plain, then encrypted; MB/s kept = encrypted / plain; CPU/GB x = the "
          "daemon's CPU-s per GB encrypted / plain)")


def report(runs_path, floor_path, meta_path, out_json, out_svg):
    runs = load_jsonl(runs_path)
    floors = load_jsonl(floor_path)
    with open(meta_path) as f:
        meta = json.load(f)
    workloads = summarize(runs, floors)
    print_table(workloads)
    print_security_table(workloads)
    doc = dict(meta, floor=floors, workloads=workloads)
    with open(out_json, "w") as f:
        json.dump(doc, f, indent=1)
    rows = [(w["workload"], [w["figures"]["daemon_us_per_block"],
                             w["figures"].get("floor_us_per_block"),
                             w["figures"].get("floor_free_us_per_block")],
             (0, f"{w['figures']['x_floor']:.2f}× floor") if w["figures"].get("x_floor") else None,
             [daemon_range(w["figures"]), None, None])
            for w in workloads]
    svg_bars(f"shuffled CPU per block ({meta.get('git', '?')}, {meta.get('date', '')})", rows,
             [("daemon", "#d9534f"), ("kernel floor, 1 CPU", "#5b8fd6"),
              ("kernel floor, unpinned", "#a9c4eb")], out_svg,
             f"{meta.get('command', '')}; {meta.get('nproc', '?')} CPUs, load {meta.get('load', '?')}")


def spread(f):
    lo, hi = f.get("daemon_us_per_block_min"), f.get("daemon_us_per_block_max")
    return "-" if lo is None or lo == hi else f"{lo:.1f}-{hi:.1f}"


def compare(old_path, new_path, out_svg=None):
    with open(old_path) as f:
        old = json.load(f)
    with open(new_path) as f:
        new = json.load(f)
    old_by = {w["workload"]: w["figures"] for w in old["workloads"]}
    print(f"old: {old_path} ({old.get('git', '?')}, {old.get('date', '')})")
    print(f"new: {new_path} ({new.get('git', '?')}, {new.get('date', '')})")
    print(f"{'workload':18s} {'d_us/blk old':>12s} {'new':>8s} {'change':>7s} {'xfloor old':>10s} "
          f"{'new':>6s} {'blocks/s old':>12s} {'new':>9s} {'d_s/GB old':>10s} {'new':>7s} "
          f"{'p99ms old':>9s} {'new':>7s} {'c_us/blk old':>12s} {'new':>7s}  d_us/blk range old | new")
    rows = []
    for w in new["workloads"]:
        n, o = w["figures"], old_by.get(w["workload"])
        if o is None:
            print(f"{w['workload']:18s} (not in the old run)")
            continue
        change = None
        if o["daemon_us_per_block"] and n["daemon_us_per_block"] is not None:
            change = 100 * (n["daemon_us_per_block"] / o["daemon_us_per_block"] - 1)
        print(f"{w['workload']:18s} {fmt(o['daemon_us_per_block'], '.2f', 12)} "
              f"{fmt(n['daemon_us_per_block'], '.2f', 8)} "
              f"{'-' if change is None else f'{change:+.0f}%':>7s} "
              f"{fmt(o.get('x_floor'), '.2f', 10)} {fmt(n.get('x_floor'), '.2f', 6)} "
              f"{fmt(o['blocks_per_s'], '.0f', 12)} {fmt(n['blocks_per_s'], '.0f', 9)} "
              f"{fmt(o['daemon_cpu_s_per_gb'], '.3f', 10)} {fmt(n['daemon_cpu_s_per_gb'], '.3f', 7)} "
              f"{fmt(o['p99_ms'], '.2f', 9)} {fmt(n['p99_ms'], '.2f', 7)} "
              f"{fmt(o['client_us_per_block'], '.2f', 12)} {fmt(n['client_us_per_block'], '.2f', 7)}  "
              f"{spread(o)} | {spread(n)}")
        rows.append((w["workload"], [o["daemon_us_per_block"], n["daemon_us_per_block"],
                                     n.get("floor_us_per_block")],
                     None if change is None else (1, f"{change:+.0f}%"),
                     [daemon_range(o), daemon_range(n), None]))
    for name in old_by:
        if name not in {w["workload"] for w in new["workloads"]}:
            print(f"{name:18s} (only in the old run)")
    print("change = new/old - 1 of the daemon's CPU us per block (medians); a range is the "
          "min-max over REPEAT runs: a change inside both ranges is noise")
    if out_svg:
        svg_bars("shuffled CPU per block: before / after", rows,
                 [(f"before ({old.get('git', '?')})", "#f0ad4e"),
                  (f"after ({new.get('git', '?')})", "#d9534f"),
                  ("kernel floor, 1 CPU (after)", "#5b8fd6")], out_svg,
                 f"{old_path} vs {new_path}; whiskers: min-max over the repeats")
        print(f"picture: {out_svg}")


def main(argv):
    if len(argv) >= 2 and argv[0] == "floor-sizes":
        floor_sizes(argv[1])
    elif len(argv) == 6 and argv[0] == "report":
        report(*argv[1:])
    elif len(argv) in (3, 4) and argv[0] == "compare":
        compare(*argv[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
