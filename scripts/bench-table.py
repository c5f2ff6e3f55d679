#!/usr/bin/env python3
"""Turns the JSON of `rwkv bench --all-precisions --length-sweep ...` into the Markdown tables of
docs/performance.md. Usage: scripts/bench-table.py BENCH.json"""
import json
import sys


def main(path):
    r = json.load(open(path))
    mach, modes = r["machine"], r["modes"]
    order = [m for m in ("fp32", "bf16", "int8", "w8a8") if m in modes]
    peak, bw = mach["fma_peak_gflops_all_threads"], mach["read_bandwidth_gbs"]
    print(f"Measured in the same run: FMA peak {peak:.0f} GFLOP/s on {mach['threads']} threads "
          f"({mach['fma_peak_gflops_1_thread']:.0f} on one), read bandwidth {bw:.1f} GB/s, ISA {mach['isa']}.\n")
    print("| | " + " | ".join(order) + " |")
    print("| --- |" + " --- |" * len(order))

    def row(name, f):
        print(f"| {name} | " + " | ".join(f(modes[m], m) for m in order) + " |")

    fp32_tps = modes["fp32"]["prefill"]["tokens_per_s"] if "fp32" in modes else None
    first = modes[order[0]]["prefill"]
    docs, doc_tokens = first["docs"], first["tokens_per_doc"]
    row(f"prefill tokens/s ({docs} docs × {doc_tokens} tokens)", lambda m, k: f"**{m['prefill']['tokens_per_s']:.0f}**"
        + (f" ({m['prefill']['tokens_per_s'] / fp32_tps:.2f}× fp32)" if fp32_tps and k != "fp32" else ""))
    row("achieved GFLOP/s", lambda m, k: f"{m['prefill']['gflops']:.0f}")
    if all("fma_peak_gflops" in modes[m]["prefill"] for m in order):  # since session 16: read beside each prefill
        row("FMA peak read just before / after this mode's prefill",
            lambda m, k: f"{m['prefill']['fma_peak_gflops_before']:.0f} / "
            f"{m['prefill']['fma_peak_gflops_after']:.0f} GFLOP/s")
        row("% of the higher of those readings", lambda m, k: f"**{m['prefill']['pct_of_fp32_peak']:.0f} %**")
        row(f"% of the run's closing reading ({peak:.0f} GFLOP/s)",
            lambda m, k: f"{m['prefill']['pct_of_fp32_peak_at_run_end']:.0f} %")
    else:
        row("% of the measured fp32 FMA peak", lambda m, k: f"{m['prefill']['pct_of_fp32_peak']:.0f} %")
    row("query latency, 16 tokens", lambda m, k: f"**{m['query_latency_ms']:.1f} ms**")
    row("decode ms/token", lambda m, k: f"{m['decode']['ms_per_token']:.2f}")
    own_bw = all("read_bandwidth_gbs" in modes[m]["decode"] for m in order)
    if own_bw:  # since 2026-11-24: each mode's bound uses bandwidth read beside its own decode
        if all("read_bandwidth_gbs_before" in modes[m]["decode"] for m in order):
            row("read bandwidth just before / after this mode's decode",
                lambda m, k: f"{m['decode']['read_bandwidth_gbs_before']:.1f} / "
                f"{m['decode']['read_bandwidth_gbs_after']:.1f} GB/s")
        else:
            row("read bandwidth after this mode's decode",
                lambda m, k: f"{m['decode']['read_bandwidth_gbs']:.1f} GB/s")
    row("decode bound (weight bytes ÷ bandwidth)", lambda m, k: f"{m['decode']['bandwidth_bound_ms']:.2f} ms")
    row("decode ÷ bound", lambda m, k: f"**{m['decode']['times_bound']:.2f}×**")
    if own_bw:
        row(f"decode ÷ bound at the run's closing reading ({bw:.1f} GB/s)",
            lambda m, k: f"{m['decode']['times_bound_at_run_end']:.2f}×")
    row("block weights (MiB)", lambda m, k: f"{m['weights_mb']:.0f}")
    row("model load", lambda m, k: f"{m['load_seconds']:.2f} s")
    row(f"peak RSS of this run ({docs}-doc batch)", lambda m, k: f"{m['peak_rss_mb']:.0f} MiB")
    row(f"embedding cosine vs fp32 (min / mean over the {docs} docs)",
        lambda m, k: "1 (reference)" if k == "fp32" else
        f"{m['cosine_vs_fp32']['min']:.5f} / {m['cosine_vs_fp32']['mean']:.5f}")
    sweeps = [s["tokens"] for s in modes[order[0]].get("length_sweep", [])]
    if sweeps:
        print("\nOne document per run, model loaded in a fresh process (tokens/s, and that process's peak RSS):\n")
        print("| tokens | " + " | ".join(order) + " |")
        print("| --- |" + " --- |" * len(order))
        for i, t in enumerate(sweeps):
            print(f"| {t} | " + " | ".join(
                f"{modes[m]['length_sweep'][i]['tokens_per_s']:.0f} tok/s, {modes[m]['length_sweep'][i]['peak_rss_mb']:.0f} MiB"
                for m in order) + " |")
        print("| spread (max/min − 1) | " + " | ".join(
            f"{(max(s['tokens_per_s'] for s in modes[m]['length_sweep']) / min(s['tokens_per_s'] for s in modes[m]['length_sweep']) - 1) * 100:.0f} % tok/s, "
            f"{(max(s['peak_rss_mb'] for s in modes[m]['length_sweep']) / min(s['peak_rss_mb'] for s in modes[m]['length_sweep']) - 1) * 100:.1f} % RSS"
            for m in order) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
