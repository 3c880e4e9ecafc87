#!/usr/bin/env python3
"""Turn a bench.sh run into the table, the CSV and the chart script.

    report.py OUTDIR

Reads OUTDIR/raw.tsv (one row per job run, written by bench.sh), the fio JSON
(or smallfile JSON) each row names, and OUTDIR/meta.txt. Writes
OUTDIR/table.txt (also printed), OUTDIR/results.csv (medians, one row per job
and target), OUTDIR/repeats.csv (every run), OUTDIR/chart.dat and
OUTDIR/chart.gp (gnuplot script for chart.png). Python 3 standard library only.

Medians are taken per metric over the repeats; the ratio to tmpfs is the
median MB/s of the target over the median MB/s of tmpfs in the same run.
"""

import csv
import json
import os
import statistics
import sys

GIB = 1 << 30

# Targets from issue 6: ratio to tmpfs by (mode, job name); None = no target.
GOALS = {
    ("warm", "seqread-1M"): 0.95,
    ("warm", "randread-4K"): 0.95,
    ("warm", "seqwrite-1M"): 0.6,
    ("warm", "randwrite-4K"): 0.35,
    ("direct", "seqread-1M"): 0.6,
    ("direct", "seqwrite-1M"): 0.6,
    ("direct", "randread-4K"): 0.3,
    ("direct", "randwrite-4K"): 0.3,
    ("mmap", "seqread-1M"): 0.9,
    ("mmap", "seqwrite-1M"): 0.9,
    ("mmap", "randread-4K"): 0.9,
    ("mmap", "randwrite-4K"): 0.9,
}
# Regions served by the kernel (FUSE passthrough, issue 10): every fio job.
REGION_GOAL = 0.9
SCALE_GOAL = 1.6  # 2 jobs vs 1 job, daemon case (direct=1)
MODE_TITLE = {
    "warm": "warm page cache (buffered, invalidate=0)",
    "direct": "daemon case (direct=1: every request reaches the daemon)",
    "mmap": "mmap engine, warm",
    "small": "small files: open / pread 4 KiB / close loop (tests/bench/smallfile.c)",
}
TARGET_ORDER = ["tmpfs", "region", "region-daemon", "view", "region-wb", "region-uring"]
# Targets in an opt-in mode (their goals are counted apart).
OPT_IN = {"region-wb": "-o writeback", "region-uring": "-o io_uring"}


def load_json(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    start = text.find("{")  # fio may print notes before the JSON
    if start < 0:
        raise ValueError("no JSON in " + path)
    return json.JSONDecoder().raw_decode(text[start:])[0]


def parse_result(path, mode, name):
    """-> dict(bw, iops, p50_us, p99_us, bytes, ios) or raises."""
    d = load_json(path)
    if mode == "small":
        if d.get("errors"):
            raise ValueError("smallfile reported errors")
        return dict(bw=d["bw_bytes"], iops=d["iops"], p50_us=d["p50_ns"] / 1e3,
                    p99_us=d["p99_ns"] / 1e3, bytes=d["bytes"], ios=d["ops"])
    job = d["jobs"][0]
    if job.get("error"):
        raise ValueError("fio error %s" % job["error"])
    side = job["write"] if "write" in name else job["read"]
    pct = side.get("clat_ns", {}).get("percentile", {})
    moved = job["read"]["io_bytes"] + job["write"]["io_bytes"]
    ios = job["read"]["total_ios"] + job["write"]["total_ios"]
    return dict(bw=side["bw_bytes"], iops=side["iops"],
                p50_us=pct.get("50.000000", 0) / 1e3, p99_us=pct.get("99.000000", 0) / 1e3,
                bytes=moved, ios=ios)


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec, width):
    return ("-" if v is None else format(v, spec)).rjust(width)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "out")
    with open(os.path.join(out, "raw.tsv"), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    meta = ""
    if os.path.exists(os.path.join(out, "meta.txt")):
        with open(os.path.join(out, "meta.txt")) as f:
            meta = f.read().rstrip("\n")

    jobs = []  # (mode, name, numjobs) in run order
    runs = {}  # (mode, name, nj, target) -> list of per-run dicts
    repeats = []
    for r in rows:
        key = (r["mode"], r["name"], int(r["numjobs"]), r["target"])
        if key[:3] not in jobs:
            jobs.append(key[:3])
        res = None
        err = None
        if r["status"] == "ok":
            try:
                res = parse_result(os.path.join(out, r["result"]), r["mode"], r["name"])
            except (OSError, ValueError, KeyError, IndexError) as e:
                err = str(e)
        else:
            err = "run failed"
        run = dict(ok=res is not None, err=err)
        if res:
            run.update(res)
            ticks = int(r["cpu_ticks"]) if r["cpu_ticks"] else None
            clk = int(r["clk_tck"]) or 100
            if r["target"] != "tmpfs" and res["bytes"] and ticks is not None:
                run["cpu_s_gib"] = ticks / clk / (res["bytes"] / GIB)
                run["cpu_us_io"] = ticks / clk / res["ios"] * 1e6 if res["ios"] else None
            run["rss_kb"] = int(r["rss_kb"]) or None
        runs.setdefault(key, []).append(run)
        repeats.append(dict(job=r["job"], target=r["target"], repeat=r["repeat"],
                            ok=int(run["ok"]), error=err or "",
                            mbps=round(res["bw"] / 1e6, 2) if res else "",
                            iops=round(res["iops"], 1) if res else "",
                            p50_us=round(res["p50_us"], 2) if res else "",
                            p99_us=round(res["p99_us"], 2) if res else "",
                            cpu_ticks=r["cpu_ticks"], rss_kb=r["rss_kb"]))

    targets = [t for t in TARGET_ORDER if any(k[3] == t for k in runs)]

    # Medians per job and target.
    summary = {}
    for key, lst in runs.items():
        good = [x for x in lst if x["ok"]]
        s = dict(n=len(lst), ok=len(good), failed=len(lst) - len(good))
        for m in ("bw", "iops", "p50_us", "p99_us", "cpu_s_gib", "cpu_us_io", "rss_kb"):
            s[m] = med([x.get(m) for x in good])
        summary[key] = s
    for (mode, name, nj, t), s in summary.items():
        base = summary.get((mode, name, nj, "tmpfs"))
        s["ratio"] = (s["bw"] / base["bw"]) if (base and base["bw"] and s["bw"] is not None) else None
        s["goal"] = GOALS.get((mode, name)) if t != "tmpfs" else None
        if t == "region" and mode != "small":
            s["goal"] = REGION_GOAL
        s["met"] = None if s["goal"] is None or s["ratio"] is None else s["ratio"] >= s["goal"]
        if s["failed"]:
            s["met"] = False if s["goal"] is not None else None

    # ---------------------------------------------------------- table
    lines = []
    if meta:
        lines += meta.splitlines() + [""]
    hdr = "%-22s %2s %-12s %10s %10s %8s %8s %7s %6s %5s %9s %8s" % (
        "job", "nj", "target", "MB/s", "IOPS", "p50 us", "p99 us", "x tmpfs", "goal", "met",
        "cpu s/GiB", "cpu us/io")
    modes_seen = []
    for mode, name, nj in jobs:
        if mode not in modes_seen:
            modes_seen.append(mode)
            lines += ["", "== " + MODE_TITLE.get(mode, mode), hdr, "-" * len(hdr)]
        for t in targets:
            s = summary.get((mode, name, nj, t))
            if not s:
                continue
            met = "" if s["met"] is None else ("ok" if s["met"] else "MISS")
            if s["failed"]:
                met = "FAIL"
            lines.append("%-22s %2d %-12s %s %s %s %s %s %s %5s %s %s" % (
                name if t == targets[0] else "", nj, t,
                fmt(s["bw"] and s["bw"] / 1e6, ".1f", 10), fmt(s["iops"], ".0f", 10),
                fmt(s["p50_us"], ".2f", 8), fmt(s["p99_us"], ".2f", 8),
                fmt(s["ratio"], ".3f", 7) if t != "tmpfs" else "".rjust(7),
                fmt(s["goal"], ".2f", 6) if s["goal"] else "".rjust(6), met,
                fmt(s["cpu_s_gib"], ".3f", 9) if t != "tmpfs" else "".rjust(9),
                fmt(s["cpu_us_io"], ".2f", 8) if t != "tmpfs" else "".rjust(8)))

    # Scaling, 2 jobs over 1 job (MB/s medians).
    scale_rows = []
    for mode in modes_seen:
        for name in sorted({n for m, n, _ in jobs if m == mode}):
            vals = {}
            for t in targets:
                a, b = summary.get((mode, name, 1, t)), summary.get((mode, name, 2, t))
                if a and b and a["bw"] and b["bw"] is not None:
                    vals[t] = b["bw"] / a["bw"]
            if vals:
                scale_rows.append((mode, name, vals))
    if scale_rows:
        lines += ["", "== scaling: MB/s with 2 jobs / MB/s with 1 job (goal >= %.1f for regionfs in the daemon case)" % SCALE_GOAL]
        lines.append("%-8s %-22s " % ("mode", "job") + " ".join("%12s" % t for t in targets))
        for mode, name, vals in scale_rows:
            cells = []
            for t in targets:
                v = vals.get(t)
                mark = ""
                if v is not None and mode == "direct" and t != "tmpfs":
                    mark = "" if v >= SCALE_GOAL else "!"
                cells.append(("-" if v is None else "%.2f%s" % (v, mark)).rjust(12))
            lines.append("%-8s %-22s " % (mode, name) + " ".join(cells))
            if mode == "direct":
                for t in targets:
                    if t != "tmpfs" and t in vals:
                        summary[("scale", name, 2, t)] = dict(scale=vals[t], met=vals[t] >= SCALE_GOAL)

    # Goals summary.
    goals = [(k, s) for k, s in summary.items() if s.get("met") is not None]
    missed = [(k, s) for k, s in goals if not s["met"]]
    failed = [k for k, s in summary.items() if s.get("failed")]
    default = [(k, s) for k, s in goals if k[3] not in OPT_IN]
    lines += ["", "goals met with default options: %d of %d" % (
        sum(1 for _, s in default if s["met"]), len(default))]
    for t, how in OPT_IN.items():
        mine = [s for k, s in goals if k[3] == t]
        if mine:
            lines.append("goals met by %s (%s): %d of %d" % (t, how, sum(1 for s in mine if s["met"]), len(mine)))
    for k, s in missed:
        if k[0] == "scale":
            lines.append("  miss: direct %s %s: 2 jobs / 1 job = %.2f (goal %.1f)" % (k[1], k[3], s["scale"], SCALE_GOAL))
        else:
            lines.append("  %s: %s %s nj%d %s: %s x tmpfs (goal %.2f)" % (
                "FAIL" if s["failed"] else "miss", k[0], k[1], k[2], k[3],
                "-" if s["ratio"] is None else "%.3f" % s["ratio"], s["goal"]))
    for k in failed:
        if GOALS.get(k[:2]) is None or k[3] == "tmpfs":
            lines.append("  FAIL: %s %s nj%d %s" % k)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(os.path.join(out, "table.txt"), "w") as f:
        f.write(text)

    # ---------------------------------------------------------- CSV
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mode", "job", "numjobs", "target", "runs", "failed", "mbps", "iops",
                    "p50_us", "p99_us", "ratio_to_tmpfs", "goal", "met",
                    "daemon_cpu_s_per_gib", "daemon_cpu_us_per_io", "daemon_rss_kb"])
        for mode, name, nj in jobs:
            for t in targets:
                s = summary.get((mode, name, nj, t))
                if not s:
                    continue
                r = lambda v, n: "" if v is None else round(v, n)
                w.writerow([mode, name, nj, t, s["n"], s["failed"], r(s["bw"] and s["bw"] / 1e6, 2),
                            r(s["iops"], 1), r(s["p50_us"], 3), r(s["p99_us"], 3), r(s["ratio"], 4),
                            s["goal"] or "", "" if s["met"] is None else int(s["met"]),
                            r(s["cpu_s_gib"], 4) if t != "tmpfs" else "",
                            r(s["cpu_us_io"], 3) if t != "tmpfs" else "",
                            r(s["rss_kb"], 0) if t != "tmpfs" else ""])
    with open(os.path.join(out, "repeats.csv"), "w", newline="") as f:
        if repeats:
            w = csv.DictWriter(f, fieldnames=list(repeats[0]))
            w.writeheader()
            w.writerows(repeats)

    # ---------------------------------------------------------- chart
    others = [t for t in targets if t != "tmpfs"]
    if "tmpfs" in targets and others:
        with open(os.path.join(out, "chart.dat"), "w") as f:
            f.write("# label " + " ".join(others) + " goal\n")
            for mode, name, nj in jobs:
                vals = [summary.get((mode, name, nj, t), {}).get("ratio") for t in others]
                goal = GOALS.get((mode, name))
                f.write('"%s %s nj%d" %s %s\n' % (mode, name, nj,
                        " ".join("NaN" if v is None else "%.4f" % v for v in vals),
                        "NaN" if goal is None else goal))
        first = meta.splitlines()[0] if meta else ""
        machine = meta.splitlines()[1] if meta.count("\n") >= 1 else ""
        n = len(others)
        width = 0.8 / n
        plots = []
        colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
        for i, t in enumerate(others):
            off = -0.4 + width * (i + 0.5)
            plots.append("'chart.dat' using ($0%+.3f):%d:(%.3f) with boxes fs solid 0.8 lc rgb '%s' title '%s'"
                         % (off, i + 2, width, colors[i % len(colors)], t))
        plots.append("'chart.dat' using 0:%d:(0.42) with xerrorbars pt 0 lw 2 lc rgb 'black' title 'goal'" % (n + 2))
        plots.append("1 with lines dt 2 lc rgb 'gray40' title 'tmpfs'")
        gp = """\
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1500,650 font ",10"
} else {
    set terminal png size 1500,650
}
set output 'chart.png'
set title "regionfs throughput as a ratio to tmpfs (median MB/s, same run)\\n%s; %s"
set ylabel "x tmpfs"
set yrange [0:*]
set xrange [-0.6:%.1f]
set grid ytics
set lmargin 14
set rmargin 3
set bmargin 9
set key top right
set boxwidth %.3f
set xtics rotate by 40 right nomirror
set style fill solid 0.8 border -1
plot 'chart.dat' using 0:(NaN):xtic(1) notitle, \\
     %s
""" % (first.replace('"', "'"), machine.replace('"', "'"), len(jobs) - 0.4, width,
       ", \\\n     ".join(plots))
        with open(os.path.join(out, "chart.gp"), "w") as f:
            f.write(gp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
