#!/usr/bin/env python3
"""Rewrites the results table of docs/performance.md from `name value` lines of one bench run.

    write-performance-doc.py RESULTS_FILE docs/performance.md

Figures of this run replace the table's rows of the same name (with this run's date); rows of
figures this run did not measure (e.g. `scripts/bench.sh swap` leaves the tunnel and dev rows)
are kept with the date they were measured, so the table never silently loses a figure. A
comparison between two figures is only made when both come from the same run.
"""
import datetime
import re
import sys

# figure → (operator, bound); the targets.
TARGETS = {
    "tunnel_throughput_vs_openssh": (">=", 0.6),
    "tunnel_rps_vs_openssh": (">=", 1.5),
    "tunnel_concurrent_vs_openssh": (">=", 1.0),
    "swap_ready_overhead_s": ("<=", 1.0),
    "dev_sync_p50_ms": ("<=", 300),
    "dev_sync_p95_ms": ("<=", 600),
    "cli_rss_mb": ("<=", 40),
}

# Table order: by bench script, then anything else in the order it came.
ORDER = [
    "tunnel_throughput_vs_openssh", "tunnel_rps_vs_openssh", "tunnel_concurrent_vs_openssh",
    "tunnel_added_latency_us_p50",
    "sandbox_pod_ready_s", "swap_ready_s", "swap_ready_overhead_s", "cli_rss_mb",
    "dev_sync_p50_ms", "dev_sync_p95_ms", "dev_initial_sync_10k_s", "kubectl_tar_10k_s",
]

START, END = "<!-- results:start -->", "<!-- results:end -->"
ROW = re.compile(r"^\| `([a-z0-9_]+)` \| ([-0-9.e+]+) \|(?:[^|]*\|){2}(?: ([^|]+?) \|)?\s*$")


def read_figures(path):
    figures = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 2:
            try:
                figures[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return figures


def previous_rows(doc):
    """figure → (value, date measured) from the doc's current table."""
    match = re.search(re.escape(START) + r"(.*)" + re.escape(END), doc, flags=re.S)
    if not match:
        return {}
    block = match.group(1)
    stamp = re.search(r"Last run: (.+)", block)
    table_date = stamp.group(1).strip() if stamp else "unknown"
    rows = {}
    for line in block.splitlines():
        row = ROW.match(line.strip())
        if row:
            rows[row.group(1)] = (float(row.group(2)), (row.group(3) or table_date).strip())
    return rows


def met(name, value):
    op, bound = TARGETS[name]
    return value >= bound if op == ">=" else value <= bound


def main(results_path, doc_path):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    figures = read_figures(results_path)
    if "swap_ready_s" in figures and "sandbox_pod_ready_s" in figures and "swap_ready_overhead_s" not in figures:
        figures["swap_ready_overhead_s"] = round(figures["swap_ready_s"] - figures["sandbox_pod_ready_s"], 3)
    try:
        doc = open(doc_path).read()
    except FileNotFoundError:
        doc = ("# Performance\n\nFigures from `scripts/bench.sh`; every ratio compares two measurements "
               f"of the same run.\n\n{START}\n{END}\n")
    merged = previous_rows(doc)
    for name, value in figures.items():
        merged[name] = (value, stamp)

    names = [n for n in ORDER if n in merged] + [n for n in merged if n not in ORDER]
    rows = ["| figure | value | target | met | measured |", "|---|---|---|---|---|"]
    for name in names:
        value, measured = merged[name]
        if name in TARGETS:
            op, bound = TARGETS[name]
            rows.append(f"| `{name}` | {value:g} | {op} {bound:g} | {'yes' if met(name, value) else '**no**'} | {measured} |")
        else:
            rows.append(f"| `{name}` | {value:g} | – | – | {measured} |")
    sync, tar = merged.get("dev_initial_sync_10k_s"), merged.get("kubectl_tar_10k_s")
    if sync and tar and sync[1] == tar[1]:
        rows.append(f"| `dev_initial_sync_10k_s <= kubectl_tar_10k_s` | {sync[0]:g} vs {tar[0]:g} | <= | "
                    f"{'yes' if sync[0] <= tar[0] else '**no**'} | {sync[1]} |")
    table = f"{START}\nLast run: {stamp} (figures of earlier runs keep their own date)\n\n" + "\n".join(rows) + f"\n{END}"
    doc = re.sub(re.escape(START) + r".*" + re.escape(END), lambda _: table, doc, flags=re.S)
    open(doc_path, "w").write(doc)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
