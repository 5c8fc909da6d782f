"""llmhw on the same cases as the third-party estimators, side by side with them.

    .venv/bin/python benchmarks/compare_llmhw.py [--tools benchmarks/out/compare.json] [--markdown FILE]

Each case is a row of the shipped measurements (benchmarks/compare_cases.json); llmhw predicts it
through the same mapping `llmhw validate` uses. The third-party results come from
benchmarks/compare_tools.py, run in its own environment (see README_compare.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import llmhw
from llmhw.validation.cases import load_cases

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=str(HERE / "compare_cases.json"))
    ap.add_argument("--tools", default=str(HERE / "out" / "compare.json"))
    ap.add_argument("--markdown")
    a = ap.parse_args()
    cases = json.loads(Path(a.cases).read_text())
    by_row = {c.row: c for c in load_cases()[0]}
    tools = {}
    if Path(a.tools).exists():
        for c in json.loads(Path(a.tools).read_text())["cases"]:
            tools[c["row"]] = c.get("results", {})
    rows = []
    for case in cases:
        vc = by_row.get(case["row"])
        if vc is None:
            continue
        scenario = llmhw.Scenario.from_dict(vc.scenario)
        llmhw.predict(scenario)  # warm
        times = []
        for _ in range(5):
            t = time.perf_counter()
            p = llmhw.predict(scenario)
            times.append(time.perf_counter() - t)
        pred = p.values[case["metric"]]
        row = {"row": case["row"], "case": f"{case['model']} {case['n_chips']}x{case['hardware']} b{case['batch']}",
               "metric": case["metric"], "measured": case["measured"],
               "llmhw": pred, "llmhw_s": statistics.median(times)}
        for tool, r in tools.get(case["row"], {}).items():
            v = r.get(case["metric"]) if isinstance(r, dict) else None
            row[tool] = v
            row[f"{tool}_s"] = r.get("wall_s") if isinstance(r, dict) else None
        rows.append(row)
    names = ["llmhw"] + sorted({k for r in rows for k in r if k not in ("row", "case", "metric", "measured", "llmhw")
                                and not k.endswith("_s")})

    def ape(r: dict, k: str) -> float | None:
        v = r.get(k)
        return None if v in (None, 0) else abs(v - r["measured"]) / r["measured"]

    lines = ["| row | case | metric | measured | " + " | ".join(names) + " |",
             "|---:|---|---|---:|" + "---:|" * len(names)]
    for r in rows:
        cells = []
        for k in names:
            e = ape(r, k)
            cells.append("-" if e is None else f"{r[k]:.4g} ({100 * e:.0f}%)")
        lines.append(f"| {r['row']} | {r['case']} | {r['metric']} | {r['measured']:.4g} | " + " | ".join(cells) + " |")
    lines += ["", "| tool | cases | median abs. % error | median time per prediction |", "|---|---:|---:|---:|"]
    for k in names:
        errs = [e for r in rows if (e := ape(r, k)) is not None]
        ts = [r[f"{k}_s"] for r in rows if r.get(f"{k}_s")]
        t = f"{1e3 * statistics.median(ts):.2f} ms" if ts else "-"
        lines.append(f"| {k} | {len(errs)} | {100 * statistics.median(errs):.0f}% | {t} |" if errs else f"| {k} | 0 | - | {t} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.markdown:
        Path(a.markdown).write_text(text)


if __name__ == "__main__":
    main()
