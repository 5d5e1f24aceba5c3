#!/usr/bin/env python3
"""Rewrites the results table of docs/performance.md from `name value` lines of one bench run."""
import datetime
import re
import sys

TARGETS = {
    "tunnel_throughput_vs_openssh": (">=", 0.6),
    "tunnel_rps_vs_openssh": (">=", 1.5),
    "tunnel_concurrent_vs_openssh": (">=", 1.0),
    "dev_sync_p50_ms": ("<=", 300),
    "dev_sync_p95_ms": ("<=", 600),
    "cli_rss_mb": ("<=", 40),
}

def main(results_path, doc_path):
    figures = {}
    for line in open(results_path):
        parts = line.split()
        if len(parts) == 2:
            try:
                figures[parts[0]] = float(parts[1])
            except ValueError:
                pass
    rows = ["| figure | value | target | met |", "|---|---|---|---|"]
    for name, value in figures.items():
        target = TARGETS.get(name)
        if target:
            op, bound = target
            met = value >= bound if op == ">=" else value <= bound
            rows.append(f"| `{name}` | {value:g} | {op} {bound:g} | {'yes' if met else '**no**'} |")
        else:
            rows.append(f"| `{name}` | {value:g} | – | – |")
    if "swap_ready_s" in figures and "sandbox_pod_ready_s" in figures:
        gap = figures["swap_ready_s"] - figures["sandbox_pod_ready_s"]
        rows.append(f"| `swap_ready_s - sandbox_pod_ready_s` | {gap:.3f} | <= 1 | {'yes' if gap <= 1.0 else '**no**'} |")
    if "dev_initial_sync_10k_s" in figures and "kubectl_tar_10k_s" in figures:
        ok = figures["dev_initial_sync_10k_s"] <= figures["kubectl_tar_10k_s"]
        rows.append(f"| `dev_initial_sync_10k_s <= kubectl_tar_10k_s` | {figures['dev_initial_sync_10k_s']:g} vs {figures['kubectl_tar_10k_s']:g} | <= | {'yes' if ok else '**no**'} |")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = f"<!-- results:start -->\nLast run: {stamp}\n\n" + "\n".join(rows) + "\n<!-- results:end -->"
    try:
        doc = open(doc_path).read()
    except FileNotFoundError:
        doc = "# Performance\n\nFigures from `scripts/bench.sh`; every ratio compares two measurements of the same run.\n\n<!-- results:start -->\n<!-- results:end -->\n"
    doc = re.sub(r"<!-- results:start -->.*<!-- results:end -->", lambda _: table, doc, flags=re.S)
    open(doc_path, "w").write(doc)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
