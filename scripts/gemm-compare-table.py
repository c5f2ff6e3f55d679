#!/usr/bin/env python3
"""Median table of scripts/gemm-compare.sh's runs: GFLOP/s per shape and library, and whether each library
gives a row the same bits alone as in its batch.
Usage: scripts/gemm-compare-table.py OUT_DIR            (the runs' Google Benchmark JSON files)
       scripts/gemm-compare-table.py OUT_DIR --combine F (also writes their results as one compact JSON file)
       scripts/gemm-compare-table.py F.json             (a combined file, e.g. docs/bench/*-gemm-compare.json)"""
import collections
import json
import pathlib
import re
import statistics
import sys

LIBS = ["rwkv_fp32", "onednn_fp32", "openblas", "openblas_avx512", "rwkv_bf16", "onednn_bf16"]


def load_runs(path: pathlib.Path) -> dict:
    """{run name ("lib-round"): [{name, FLOPS, row_alone_same, label}]} from a directory or a combined file."""
    if path.is_file():
        return json.loads(path.read_text())
    keep = ("name", "FLOPS", "row_alone_same", "label")
    return {
        p.stem: [{k: b[k] for k in keep if k in b} for b in json.loads(p.read_text())["benchmarks"]]
        for p in sorted(path.glob("*.json"))
    }


def main() -> None:
    runs = load_runs(pathlib.Path(sys.argv[1]))
    if len(sys.argv) == 4 and sys.argv[2] == "--combine":
        pathlib.Path(sys.argv[3]).write_text(json.dumps(runs, indent=1) + "\n")
    flops = collections.defaultdict(list)  # (shape, lib) -> GFLOP/s of each round
    same = {}  # (shape, lib) -> row_alone_same of the last round
    labels = {}
    for run, benchmarks in sorted(runs.items()):
        lib = re.sub(r"-\d+$", "", run)
        for b in benchmarks:
            shape = re.search(r"M:(\d+)/K:(\d+)/N:(\d+)/threads:(\d+)/cold:(\d)", b["name"]).groups()
            key = (tuple(int(x) for x in shape), lib)
            flops[key].append(b["FLOPS"] / 1e9)
            same[key] = int(b["row_alone_same"])
            if b.get("label"):
                labels[lib] = b["label"]
    shapes = sorted({k[0] for k in flops}, key=lambda s: (s[4], -s[0], s[1], s[2]))
    libs = [lib for lib in LIBS if any((s, lib) in flops for s in shapes)]
    names = [f"{lib} ({labels[lib]})" if lib in labels else lib for lib in libs]
    print("| M × K × N | weights | " + " | ".join(names) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in libs) + " |")
    for s in shapes:
        cells = []
        for lib in libs:
            v = flops.get((s, lib))
            if not v:
                cells.append("")
                continue
            mark = "" if same[(s, lib)] else " †"
            cells.append(f"{statistics.median(v):.0f}{mark}")
        where = "memory" if s[4] else "cache"
        print(f"| {s[0]} × {s[1]} × {s[2]} | {where} | " + " | ".join(cells) + " |")
    rounds = max(len(v) for v in flops.values())
    print(f"\nGFLOP/s, median of {rounds} round(s), {shapes[0][3]} threads; † = the first row computed alone "
          "differs in its bits from the same row in the batch.")


if __name__ == "__main__":
    main()
