#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Figures of scripts/bench as CSV, drawn with gnuplot (PNG) when it is installed.

  bench_plot.py RUN.json [OTHER.json] OUT.csv
      one row per workload of RUN.json: blocks/s and request p99 (ms); with OTHER.json (a
      previous run, or a peer measured the same way) its figures beside them, labelled. The
      picture, OUT.png beside OUT.csv: blocks/s and p99 per workload, side by side per run.
      Without gnuplot the CSV is still written and the picture skipped with a message.

RUN.json: what scripts/bench saves (its "workloads", each with "figures")."""
import csv
import json
import os
import shutil
import subprocess
import sys


def load(path):
    with open(path) as f:
        doc = json.load(f)
    label = doc.get("label") or f"{doc.get('git', '?')} {doc.get('date', '')}".strip()
    return label, {w["workload"]: w["figures"] for w in doc["workloads"]}


def rows_of(runs):
    """(workload, [blocks/s, p99 ms] per run) for the workloads of the first run, in order."""
    names = list(runs[0][1])
    return [(n, [(r[1].get(n) or {}).get(k) for r in runs for k in ("blocks_per_s", "p99_ms")])
            for n in names]


def write_csv(path, runs, rows):
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["workload"] + [f"{what} ({label})" for label, _ in runs
                                     for what in ("blocks_per_s", "p99_ms")])
        for name, values in rows:
            out.writerow([name] + ["" if v is None else f"{v:.6g}" for v in values])


def gnuplot_script(csv_path, png_path, runs):
    colors = ["#d9534f", "#5b8fd6"]
    plots = []
    # blocks/s spans 10^2 (1 MiB blocks) to 10^5 (tiny ones): a log scale shows both
    for title, offset, scale in (("blocks/s (higher is better; log scale)", 2,
                                  "set logscale y\nset yrange [*:*]"),
                                 ("request p99, ms (lower is better)", 3,
                                  "unset logscale y\nset yrange [0:*]")):
        series = ", ".join(
            f"'{csv_path}' using {offset + 2 * i}:xtic(1) title '{label}' lc rgb '{colors[i % 2]}'"
            for i, (label, _) in enumerate(runs))
        plots.append(f"{scale}\nset title '{title}'\nplot {series}")
    return "\n".join([
        "set terminal pngcairo size 1100,800 font ',10'" if "cairo" in gnuplot_terminals()
        else "set terminal png size 1100,800",
        f"set output '{png_path}'",
        "set datafile separator ','",
        "set key autotitle columnhead top right",
        "set style data histograms",
        "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1",
        "set boxwidth 0.9",
        "set grid ytics",
        "set xtics rotate by -30 nomirror",
        "set multiplot layout 2,1",
        *plots,
        "unset multiplot",
    ]) + "\n"


_terms = None


def gnuplot_terminals():
    global _terms
    if _terms is None:
        r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
        _terms = r.stdout + r.stderr
    return _terms


def draw(csv_path, runs):
    png = os.path.splitext(csv_path)[0] + ".png"
    if not shutil.which("gnuplot"):
        print("bench: gnuplot is not installed: no picture (apt-get install gnuplot-nox); "
              f"figures in {csv_path}", file=sys.stderr)
        return None
    script = gnuplot_script(csv_path, png, runs)
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"bench: gnuplot failed, no picture: {r.stderr.strip()}", file=sys.stderr)
        return None
    return png


def main(argv):
    if len(argv) not in (2, 3) or not argv[-1].endswith(".csv"):
        print(__doc__, file=sys.stderr)
        return 2
    runs = [load(p) for p in argv[:-1]]
    if len(runs) == 2 and runs[0][0] == runs[1][0]:
        runs = [(f"{label} ({os.path.basename(p)})", figs) for (label, figs), p in zip(runs, argv)]
    write_csv(argv[-1], runs, rows_of(runs))
    png = draw(argv[-1], runs)
    print(f"figures: {argv[-1]}" + (f"; picture: {png}" if png else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
