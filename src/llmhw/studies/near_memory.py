"""RQ3a: processing in memory (PIM) vs processing near memory (PNM) vs plain HBM for decode.

Ma & Patterson (2026, section 4.4, Table 4): PIM (logic in the DRAM die, one unit per bank) has
5-10x the bandwidth per watt of standard memory but must shard the model into 32-64 MB banks and
computes with slow DRAM-process logic; PNM (logic on a die next to the memory, e.g. the HBM base
die) has 2-5x, logic-process compute and shards 1000x larger. They conclude PNM suits datacenter
inference better.

The study puts the catalog's presets (docs/near_memory.md) on the HBM3 of an 8 x H100 HGX
serving Llama 3.1 70B (TP 8, BF16): ``pim-hbm`` (Samsung HBM-PIM: 1.2 TFLOP/s fp16 per 307 GB/s
device, 4x internal bandwidth, 1.1 pJ/bit, 25 % of capacity lost, 32 MB banks) and ``pnm-hbm``
(compute on an HBM4 base die: 16 TFLOP/s bf16 per 2 TB/s device, 1x, 0.98 pJ/bit, 48 GB shards),
sweeps the internal bandwidth multiplier, and maps the tensors of several models onto their shards.

Comparison basis (like with like): all three designs keep the H100's HBM3 tier, so the external
interface is the same 3.35 TB/s per chip (the presets' device FLOP/s are scaled by that bandwidth,
keeping their FLOP per byte); and the same power envelope, the H100's 700 W TDP, which holds the
GPU, its HBM and here the near-memory logic (llmhw.economics prices near-memory reads at the
preset's pJ/bit and its FLOPs at ``near_memory_energy_j_per_flop``). The fixed-batch table and the
multiplier figure put every design at the same batch (batch 1 favours near-memory compute, large
batches the GPU), and say so; the fair comparison (``near-memory-fair``, ``near-memory-frontier``)
puts each design at its own best mapping, searched over tensor x data parallelism and batch
through the public API, under the same TPOT limits and within the envelope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import NullFormatter, NullLocator

import llmhw
from llmhw import api
from llmhw.core.units import bytes_per_element
from llmhw.hardware.catalog import near_memory_presets
from llmhw.hardware.near_memory import gemv_item, shard_fit, tier_peak_flops
from llmhw.studies import style
from llmhw.studies.base import Figure, Study, Table

MULTIPLIERS = np.array([1, 2, 4, 8, 16, 32])
BATCHES = np.array([1, 4, 16, 64])
PLOT_BATCHES = (1, 4, 16)
TECHS = ("pim-hbm", "pnm-hbm")
LABELS = {None: "H100 HBM3, no near-memory compute", "pim-hbm": "PIM in the HBM banks (HBM-PIM)",
          "pnm-hbm": "PNM on the HBM base die"}
COLORS = {None: "0.3", "pim-hbm": style.color("pim-hbm"), "pnm-hbm": style.color("pnm-hbm")}
CONTEXTS = np.logspace(np.log10(1024), np.log10(2 ** 21), 60)

BASE: dict[str, Any] = {
    "model": "llama-3.1-70b", "hardware": "hgx-h100-8", "n_chips": 8, "parallelism": {"tp": 8},
    "precision": {"weights": "bf16", "kv_cache": "bf16"},
    "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1},
}

# The fair comparison's search space: the ways 8 H100s can hold Llama 3.1 70B (tensor x data
# parallel; tp 2 leaves a BF16 70B no room on PIM's 60 GB, which the search finds by itself) and
# batches 1..1024 in quarter-octave steps (so no design gains or loses by where a coarse grid
# happens to fall against a TPOT limit) plus the largest that fits (-1).
MAPPINGS: tuple[dict[str, int], ...] = ({"tp": 8}, {"tp": 4, "dp": 2}, {"tp": 2, "dp": 4})
SEARCH_BATCHES = np.array([*np.unique(np.round(2 ** np.arange(0, 10.001, 0.25))), -1])
# TPOT limits of MLPerf Inference v5.0 for Llama 2 70B (99th percentile): 40 ms in the interactive
# scenario, 200 ms in the server scenario (mlcommons.org/2025/04/llm-inference-v5). None: the
# lowest TPOT a design reaches at any mapping (the latency objective).
TPOT_TARGETS_S: tuple[float | None, ...] = (None, 0.040, 0.200)
INTERACTIVE_S = 0.040

# Models for the shard map: (catalog id, parallelism, weights precision).
SHARD_MODELS: tuple[tuple[str, dict[str, int]], ...] = (
    ("llama-3.2-1b", {"tp": 1}), ("llama-3.1-8b", {"tp": 1}), ("llama-3.1-70b", {"tp": 8}),
    ("llama-3.1-405b", {"tp": 8}), ("mixtral-8x7b", {"tp": 8, "ep": 8}), ("gpt-oss-120b", {"tp": 8, "ep": 8}),
    ("qwen3-235b-a22b", {"tp": 8, "ep": 8}), ("deepseek-v3", {"tp": 8, "ep": 8}),
)


def scenario(nm: Any = None, multiplier: float | None = None, **changes: Any) -> llmhw.Scenario:
    """The base scenario with near-memory compute ``nm`` (a preset id; None for plain HBM), its
    internal bandwidth multiplier optionally changed."""
    d = {**BASE, **changes}
    if nm is not None:
        spec: Any = nm if multiplier is None else {"tech": nm, "internal_bandwidth_multiplier": float(multiplier)}
        d["overrides"] = {"chip.near_memory": spec}
    return llmhw.Scenario.from_dict(d)


def _sweep(s: llmhw.Scenario, batch: Any) -> dict[str, np.ndarray]:
    from llmhw.api import sweep_economics as econ_sweep
    with np.errstate(all="ignore"):
        return econ_sweep(s, batch=batch)


def kv_bytes_per_head_token(model: Any, kv_precision: str = "bf16") -> float:
    """One request's cache of one KV head per token: K and V of head_dim (MLA: its latent, once)."""
    b = bytes_per_element(kv_precision)
    if model.mla is not None:
        return (model.mla.kv_lora_rank + model.mla.qk_rope_head_dim) * b
    return 2 * model.head_dim * b


def max_context_in_shard(model: Any, shard_bytes: float, kv_precision: str = "bf16") -> int:
    """Longest context whose KV head (one request) fits one shard: shard / bytes per head-token."""
    return int(shard_bytes // kv_bytes_per_head_token(model, kv_precision))


def weight_items(model: Any, par: dict[str, int], wprec: str = "bf16") -> dict[str, tuple[float, float]]:
    """The per-chip weight matrices near-memory GEMV units would run, as shard_fit items (bytes,
    one output row), following the engine's split (serving/closed_loop.py, Engine._near_memory)."""
    tp, ep, dp = par.get("tp", 1), par.get("ep", 1), par.get("dp", 1)
    wb = bytes_per_element(wprec)
    h = model.hidden_size
    items = {
        "qkv_proj": gemv_item(int(model.q_width / tp + 2 * model.n_kv_heads * model.head_dim / tp) or 1, h, wb),
        "o_proj": gemv_item(h, max(1, model.attn_out_width // tp), wb),
        "lm_head": gemv_item(max(1, model.vocab_size // tp), h, wb),
    }
    if model.intermediate_size:
        items["ffn"] = gemv_item(h, max(1, model.intermediate_size // tp), wb)
    if model.moe is not None:
        split = max(1, tp * dp // ep)
        items["experts"] = gemv_item(h, max(1, model.moe.expert_intermediate_size // split), wb)
    return items


PIM_WITH_ATTENTION = {"tech": "pim-hbm", "ops": ["gemv", "decode_attention"]}


def _shard_table() -> tuple[Table, list[dict[str, Any]]]:
    presets = near_memory_presets()
    pim, pnm = presets["pim-hbm"], presets["pnm-hbm"]
    rows = []
    for mid, par in SHARD_MODELS:
        m = llmhw.load_model(mid)
        items = weight_items(m, par)
        whole = {k: v[0] for k, v in items.items()}         # the same matrices, indivisible
        row_fit = shard_fit(pim, items)
        whole_fit = shard_fit(pim, whole)
        pnm_fit = shard_fit(pnm, whole)
        # The engine's own check (shard_fit on kv_head_item) at an 8k and a 128k context, with
        # HBM-PIM allowed to run decode attention.
        eng = {}
        weights = 0.0
        for ctx in (8192, 131072):
            s = llmhw.Scenario.from_dict({
                "model": mid, "hardware": "h100-sxm", "n_chips": par.get("tp", 1), "parallelism": par,
                "precision": {"weights": "bf16", "kv_cache": "bf16"},
                "workload": {"input_tokens": ctx - 1024, "output_tokens": 1024, "batch": 1},
                "overrides": {"chip.near_memory": PIM_WITH_ATTENTION}})
            eng[ctx] = "attention" in api.near_memory_ops(s)
            weights = float(llmhw.sweep(s)["weights_bytes"])
        rows.append({
            "model": mid, "parallelism": ", ".join(f"{k}{v}" for k, v in par.items()),
            "weights_per_chip_gb": round(weights / 1e9, 1),
            "pim_banks_for_weights": int(np.ceil(weights / pim.shard_bytes)),
            "largest_matrix_mb": round(max(whole.values()) / 1e6, 1),
            "largest_row_kb": round(max(v[1] for v in items.values()) / 1e3, 1),
            "weights_map_to_pim_rows_split": all(f.fits for f in row_fit),
            "matrix_types_fitting_one_pim_bank_whole": f"{sum(f.fits for f in whole_fit)}/{len(whole_fit)}",
            "weights_map_to_pnm_whole": all(f.fits for f in pnm_fit),
            "kv_head_per_1k_tokens_kb": round(kv_bytes_per_head_token(m) * 1000 / 1e3, 1),
            "max_context_in_32mb_bank_tokens": max_context_in_shard(m, pim.shard_bytes),
            "max_context_in_64mb_bank_tokens": max_context_in_shard(m, 2 * pim.shard_bytes),
            "max_context_in_48gb_pnm_tokens": max_context_in_shard(m, pnm.shard_bytes),
            "engine_pim_attention_8k": eng[8192], "engine_pim_attention_128k": eng[131072],
        })
    note = ("Per chip, BF16 weights and KV cache. A PIM unit reaches only its own bank (32 MB on HBM-PIM; 64 MB "
            "is the paper's upper bound); a weight matrix maps when split by output rows (each bank holds whole "
            "rows, the input vector is broadcast: the way HBM-PIM and AiM run GEMV); kept whole it maps only "
            "when it fits a bank. Matrix types per chip: qkv, o, FFN or experts, LM head (the engine's split). "
            "pim_banks_for_weights = weights per chip / 32 MB (an H100's 80 GB HBM3 with HBM-PIM keeps 60 GB, "
            "1875 banks). One request's KV head cannot be split (attention needs its whole sequence for the "
            "softmax): it maps while context x bytes per head-token fits a shard. engine_pim_attention_*: "
            "whether llmhw's engine lets HBM-PIM, allowed to run decode attention, take it at that context. "
            "The PNM shard is one pnm-hbm device (48 GB).")
    return Table("near-memory-shard-map", "Which models map onto PIM banks and which need PNM", rows, note), rows


def _multiplier_sweep() -> dict[Any, dict[str, np.ndarray]]:
    """Per design: metrics over (multiplier, batch); plain HBM has no multiplier (one row)."""
    out: dict[Any, dict[str, np.ndarray]] = {None: _sweep(scenario(None), BATCHES[None, :])}
    for tech in TECHS:
        parts = [_sweep(scenario(tech, mu), BATCHES) for mu in MULTIPLIERS]
        out[tech] = {k: np.stack([p[k] for p in parts]) for k in parts[0]
                     if np.asarray(parts[0][k]).shape == BATCHES.shape}
    return out


def _per_token_parts(a: dict[str, np.ndarray], n_chips: int) -> dict[str, np.ndarray]:
    """J per output token split: decode memory reads (host + near memory), decode compute, the rest."""
    dec = a["energy_j_per_token_decode"]
    step = np.maximum(a["decode_step_energy_j"], 1e-30)
    mem = dec * (a["decode_step_energy_j_memory"] + a["decode_step_energy_j_near_memory"]) / step
    comp = dec * a["decode_step_energy_j_compute"] / step
    static = a["energy_j_per_token_static"] + a["energy_j_per_token_host"]
    other = a["energy_j_per_token"] - mem - comp - static
    return {"memory reads (decode)": mem, "arithmetic (decode)": comp, "static + host": static,
            "prefill and network": other}


# ------------------------------------------------------------------ the fair comparison
@dataclass
class Candidates:
    """Every (mapping, batch) one design was priced at: the sweep's arrays flattened over the
    mappings, the mapping of each point, and the design's interface and power envelope."""

    tech: str | None
    mapping: list[str]
    a: dict[str, np.ndarray]
    interface_bandwidth: float       # B/s per chip across its memory tiers (the external interface)
    power_cap_w: float | None        # per chip: logic + memory (+ near-memory logic); None: no cap


def mapping_label(par: dict[str, int]) -> str:
    return " ".join(f"{k}{v}" for k, v in par.items())


def candidates(tech: str | None, mappings: tuple[dict[str, int], ...] = MAPPINGS,
               batches: np.ndarray = SEARCH_BATCHES) -> Candidates:
    """Price design ``tech`` at every mapping x batch through the public API."""
    parts: list[dict[str, np.ndarray]] = []
    labels: list[str] = []
    bws, caps = set(), set()
    for par in mappings:
        s = scenario(tech, parallelism=par)
        a = _sweep(s, batches)
        parts.append({k: np.asarray(v) for k, v in a.items() if np.shape(v) == batches.shape})
        labels += [mapping_label(par)] * len(batches)
        bws.add(sum(t.bandwidth_bytes_per_s for t in s.chip.memory))
        caps.add(api.economics_constants(s).power_cap_w)
    # The mapping changes how the model is split, never the chip: one interface, one envelope.
    assert len(bws) == 1 and len(caps) == 1, (bws, caps)
    keys = set.intersection(*(set(p) for p in parts))
    return Candidates(tech, labels, {k: np.concatenate([p[k] for p in parts]) for k in sorted(keys)},
                      bws.pop(), caps.pop())


def feasible(c: Candidates) -> np.ndarray:
    """Points that fit in memory with at least one request and stay within the power envelope
    (the engine's modelled power, before any cap)."""
    ok = c.a["fits"].astype(bool) & (c.a["batch"] >= 1)
    if c.power_cap_w is not None:
        ok &= c.a["power_w_per_chip_model"] <= c.power_cap_w
    return ok


def best_index(c: Candidates, tpot_target_s: float | None) -> int | None:
    """The design's best mapping: the feasible point with the most output tokens/s per chip at
    TPOT <= ``tpot_target_s``; with no target, the feasible point with the lowest TPOT. None when
    no point qualifies."""
    ok = feasible(c)
    if tpot_target_s is None:
        return int(np.argmin(np.where(ok, c.a["tpot_s"], np.inf))) if ok.any() else None
    ok &= c.a["tpot_s"] <= tpot_target_s
    return int(np.argmax(np.where(ok, c.a["output_tok_s_per_chip"], -np.inf))) if ok.any() else None


def frontier(c: Candidates) -> tuple[np.ndarray, np.ndarray]:
    """(TPOT, tokens/s per chip) of the feasible points no faster point beats in throughput."""
    ok = feasible(c)
    t, y = c.a["tpot_s"][ok], c.a["output_tok_s_per_chip"][ok]
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    keep = y >= np.maximum.accumulate(y)
    return t[keep], y[keep]


DECODE_PARTS = {"compute": "decode_compute_s", "HBM reads": "decode_memory_s",
                "near-memory units": "decode_near_memory_s", "collectives": "decode_comm_s",
                "overheads": "decode_overhead_s"}


def decode_bound(a: dict[str, np.ndarray], i: int) -> str:
    """The largest part of the decode step at point ``i``: what bounds it."""
    return max(DECODE_PARTS, key=lambda k: float(a[DECODE_PARTS[k]][i]))


def objective_label(target: float | None) -> str:
    return "lowest TPOT" if target is None else f"TPOT <= {target * 1e3:.0f} ms, most tokens/s per chip"


def _fair_search() -> dict[Any, Candidates]:
    return {tech: candidates(tech) for tech in (None, *TECHS)}


def _fair_rows(cands: dict[Any, Candidates]) -> list[dict[str, Any]]:
    rows = []
    for target in TPOT_TARGETS_S:
        ref = cands[None]
        j = best_index(ref, target)
        for tech in (None, *TECHS):
            c = cands[tech]
            i = best_index(c, target)
            row: dict[str, Any] = {
                "design": LABELS[tech], "objective": objective_label(target),
                "tpot_target_ms": None if target is None else target * 1e3,
                "interface_bandwidth_tb_s_per_chip": round(c.interface_bandwidth / 1e12, 3),
                "power_envelope_w_per_chip": c.power_cap_w, "feasible": i is not None}
            if i is not None:
                a = c.a
                row.update({
                    "mapping": c.mapping[i], "batch": int(a["batch"][i]),
                    "tpot_ms": round(float(a["tpot_s"][i]) * 1e3, 2),
                    "tok_s_per_chip": round(float(a["output_tok_s_per_chip"][i]), 1),
                    "power_w_per_chip": round(float(a["power_w_per_chip_model"][i]), 0),
                    "energy_j_per_token": round(float(a["energy_j_per_token"][i]), 2),
                    "decode_bound": decode_bound(a, i),
                    "max_batch_at_mapping": int(a["max_batch"][i]),
                })
                if j is not None:
                    # Latency objective: HBM's TPOT / the design's; a TPOT limit: tokens/s per chip / HBM's.
                    row["gain_vs_hbm_x"] = round(
                        float(ref.a["tpot_s"][j] / a["tpot_s"][i]) if target is None
                        else float(a["output_tok_s_per_chip"][i] / ref.a["output_tok_s_per_chip"][j]), 3)
            rows.append(row)
    return rows


def _fair_table(rows: list[dict[str, Any]]) -> Table:
    note = ("Like with like: every design keeps the H100's HBM3 tier (the same external interface, "
            "interface_bandwidth_tb_s_per_chip) and the same per-chip power envelope, the H100's TDP, which here "
            "holds the GPU, its HBM and the near-memory logic; a point counts only if its modelled power "
            "(llmhw.economics, before any cap) stays within it and it fits in memory. Each design at its own best "
            f"mapping: searched over {', '.join(mapping_label(p) for p in MAPPINGS)} on 8 chips and batches "
            f"{int(SEARCH_BATCHES[0])}-{int(SEARCH_BATCHES[-2])} in quarter-octave steps plus the largest that fits. Objectives: the lowest "
            "TPOT at any mapping, and the most output tokens/s per chip within MLPerf Inference v5.0's Llama 2 70B "
            "TPOT limits (40 ms interactive, 200 ms server). gain_vs_hbm_x: HBM's TPOT / the design's for the "
            "lowest TPOT, the design's tokens/s per chip / HBM's under a TPOT limit. decode_bound: the largest part "
            "of the decode step (llmhw's breakdown). Llama 3.1 70B BF16, 1024 in / 1024 out.")
    return Table("near-memory-fair", "Each design at its best mapping, same interface and power envelope", rows, note)


def _at_preset(tech: str | None) -> int:
    """Index of a design's own internal bandwidth multiplier in MULTIPLIERS (0 for plain HBM)."""
    if tech is None:
        return 0
    return int(np.where(MULTIPLIERS == near_memory_presets()[tech].internal_bandwidth_multiplier)[0][0])


def _envelope_w() -> float | None:
    """The per-chip power envelope every design shares: the H100's TDP (logic + HBM)."""
    return api.economics_constants(scenario(None)).power_cap_w


def _designs_table(sw: dict[Any, dict[str, np.ndarray]]) -> Table:
    presets = near_memory_presets()
    rows = []
    for tech in (None, *TECHS):
        g = {k: np.asarray(v)[_at_preset(tech)] for k, v in sw[tech].items()}
        nm = presets.get(tech) if tech else None
        row = {"design": LABELS[tech], "internal_bandwidth_x": nm.internal_bandwidth_multiplier if nm else 1,
               "interface_bandwidth_tb_s_per_chip": round(sum(
                   t.bandwidth_bytes_per_s for t in scenario(tech).chip.memory) / 1e12, 3),
               "read_pj_per_bit": round((nm.energy_j_per_bit if nm else 3.9e-12) * 1e12, 2),
               "max_batch": int(g["max_batch"][0])}
        for j, b in enumerate(BATCHES):
            row[f"tpot_b{b}_ms"] = round(float(g["tpot_s"][j]) * 1e3, 2)
        for j, b in enumerate(BATCHES):
            if b in (1, 16):
                row[f"energy_b{b}_j_per_token"] = round(float(g["energy_j_per_token"][j]), 2)
                row[f"decode_memory_b{b}_j_per_token"] = round(float(
                    _per_token_parts({k: np.asarray(v)[j] for k, v in g.items()}, 8)["memory reads (decode)"]), 3)
                row[f"power_b{b}_w_per_chip"] = round(float(g["power_w_per_chip_model"][j]), 0)
        rows.append(row)
    note = ("Same batch for every design (batch 1 favours near-memory compute, large batches the GPU; each "
            "design at its own best mapping is the near-memory-fair table). Same interface: every design keeps "
            "the H100's HBM3 tier (interface_bandwidth_tb_s_per_chip); same envelope: power_b*_w_per_chip is the "
            f"modelled per-chip power (GPU + HBM + near-memory logic) against the H100's {_envelope_w():.0f} W TDP. "
            "Llama 3.1 70B, BF16, 8 x H100 (HGX), TP 8, 1024 in / 1024 out, presets at their own internal "
            "bandwidth multiplier. J/token from llmhw.economics (whole system, chips + host); "
            "decode_memory_j_per_token: energy of the decode steps' memory reads per output token (HBM reads "
            "at 3.9 pJ/bit, reads inside the memory at the preset's pJ/bit). PIM gives up 25 % of the HBM to "
            "its logic, hence the smaller max batch.")
    return Table("near-memory-designs", "PIM vs PNM vs plain HBM at the same batch, Llama 3.1 70B decode on 8 x H100",
                 rows, note)


def _style(ax: Any) -> None:
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)


def _pow2_x(ax: Any, values: Any) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(values, labels=[str(x) for x in values])
    ax.xaxis.set_minor_locator(NullLocator())


def _fig_tpot(sw: dict[Any, dict[str, np.ndarray]]) -> MplFigure:
    fig, axes = style.figure(11, 4.6, 1, len(PLOT_BATCHES))
    cap = _envelope_w()
    for ax, b in zip(axes, PLOT_BATCHES, strict=True):
        j = int(np.where(BATCHES == b)[0][0])
        plain = sw[None]
        ax.axhline(float(plain["tpot_s"][0, j]) * 1e3, color=COLORS[None], lw=1.5, label=LABELS[None])
        floor = float(plain["decode_comm_s"][0, j] + plain["decode_overhead_s"][0, j])
        ax.axhline(floor * 1e3, color="0.5", ls=":", lw=1, label="collectives + overheads of a step")
        for tech, mk in zip(TECHS, ("o", "s"), strict=True):
            a = sw[tech]
            t = a["tpot_s"][:, j] * 1e3
            ax.plot(MULTIPLIERS, t, color=COLORS[tech], label=LABELS[tech])
            # Filled: within the H100's power envelope; hollow: the design would draw more than its TDP.
            inside = np.ones_like(t, dtype=bool) if cap is None else a["power_w_per_chip_model"][:, j] <= cap
            ax.plot(MULTIPLIERS[inside], t[inside], mk, ms=4.5, color=COLORS[tech])
            ax.plot(MULTIPLIERS[~inside], t[~inside], mk, ms=4.5, mfc="none", color=COLORS[tech])
            k = _at_preset(tech)
            ax.plot(MULTIPLIERS[k], t[k], marker="*", ms=12, color=COLORS[tech], ls="none")
        _pow2_x(ax, MULTIPLIERS)
        ax.set_xlabel("internal / external bandwidth (x)")
        ax.set_title(f"batch {b} (every design)")
        ax.set_ylim(bottom=0)
        _style(ax)
    axes[0].set_ylabel("TPOT (ms)")
    fig.legend(*axes[0].get_legend_handles_labels(), fontsize=8, loc="outside lower center", ncol=4,
               title="star: the preset's multiplier; filled: within the H100's TDP, hollow: above it", title_fontsize=8)
    return fig


def _fig_energy(sw: dict[Any, dict[str, np.ndarray]], cands: dict[Any, Candidates]) -> MplFigure:
    fig, (ax1, ax2) = style.figure(10.5, 4.4, 1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
    for b, ls in ((1, "-"), (16, "--")):
        j = int(np.where(BATCHES == b)[0][0])
        ax1.axhline(float(sw[None]["energy_j_per_token"][0, j]), color=COLORS[None], ls=ls, lw=1.2)
        for tech in TECHS:
            ax1.plot(MULTIPLIERS, sw[tech]["energy_j_per_token"][:, j], ls, marker="o", ms=3.5, color=COLORS[tech])
    handles = [ax1.plot([], [], color=COLORS[t], label=LABELS[t])[0] for t in (None, *TECHS)]
    handles += [ax1.plot([], [], "k-", label="batch 1")[0], ax1.plot([], [], "k--", label="batch 16")[0]]
    ax1.legend(handles=handles, fontsize=8, loc="center right")
    _pow2_x(ax1, MULTIPLIERS)
    ax1.set_yscale("log")
    ax1.set_yticks([1, 3, 5, 10, 20, 30, 50], labels=["1", "3", "5", "10", "20", "30", "50"])
    ax1.yaxis.set_minor_formatter(NullFormatter())
    ax1.set_xlabel("internal / external bandwidth (x)")
    ax1.set_ylabel("energy per output token, whole system (J)")
    ax1.set_title("(a) J/token vs bandwidth multiplier")
    # (b) where the joules go: at batch 1 (every design) and at each design's best mapping within
    # the interactive TPOT limit (presets at their own multiplier).
    j1 = int(np.where(BATCHES == 1)[0][0])
    short = {None: "HBM3", "pim-hbm": "PIM", "pnm-hbm": "PNM"}
    names, stacks = [], []
    for tech in (None, *TECHS):
        g = {k: np.asarray(v)[_at_preset(tech), j1] for k, v in sw[tech].items()}
        stacks.append(_per_token_parts(g, 8))
        names.append(f"{short[tech]}\nbatch 1")
    for tech in (None, *TECHS):
        c = cands[tech]
        i = best_index(c, INTERACTIVE_S)
        if i is None:
            continue
        stacks.append(_per_token_parts({k: v[i] for k, v in c.a.items()}, 8))
        names.append(f"{short[tech]} best\n{c.mapping[i]}\nbatch {int(c.a['batch'][i])}")
    # Shares of each bar's J/token (totals differ 50x between the groups), the total written on top.
    total = np.array([sum(float(v) for v in st.values()) for st in stacks])
    bottom = np.zeros(len(names))
    parts_colors = (style.color("memory"), style.color("compute"), "#BBBBBB", style.color("pim"))
    for k, color in zip(stacks[0], parts_colors, strict=True):
        v = 100 * np.array([float(st[k]) for st in stacks]) / total
        ax2.bar(names, v, bottom=bottom, color=color, label=k, width=0.6)
        bottom += v
    for x, e in enumerate(total):
        ax2.text(x, 101, f"{e:.3g} J", ha="center", va="bottom", fontsize=8)
    ax2.set_ylim(0, 112)
    ax2.tick_params(axis="x", labelsize=8)
    ax2.grid(axis="x", visible=False)
    ax2.set_ylabel("share of the energy per output token (%)")
    ax2.set_title(f"(b) where it goes: batch 1, and best under {INTERACTIVE_S * 1e3:.0f} ms TPOT")
    ax2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    _style(ax1)
    return fig


def _fig_frontier(cands: dict[Any, Candidates]) -> MplFigure:
    fig, ax = style.figure(7.8, 4.6)
    for tech in (None, *TECHS):
        t, y = frontier(cands[tech])
        ax.plot(t * 1e3, y, "-", color=COLORS[tech], lw=1.8, label=LABELS[tech])
        for target, m in zip(TPOT_TARGETS_S, ("o", "s", "D"), strict=True):
            i = best_index(cands[tech], target)
            if i is not None:
                ax.plot(cands[tech].a["tpot_s"][i] * 1e3, cands[tech].a["output_tok_s_per_chip"][i], m,
                        color=COLORS[tech], ms=6, mfc="none", mew=1.5)
    for target in TPOT_TARGETS_S:
        if target is not None:      # mid-height: the curves run along the top, the legend sits below
            ax.axvline(target * 1e3, color="0.5", ls=":", lw=1)
            ax.text(target * 1e3 * 1.04, 0.42, f"TPOT {target * 1e3:.0f} ms", fontsize=8, color="0.35", rotation=90,
                    va="bottom", transform=ax.get_xaxis_transform())
    marks = [ax.plot([], [], m, color="0.3", mfc="none", label=objective_label(t))[0]
             for t, m in zip(TPOT_TARGETS_S, ("o", "s", "D"), strict=True)]
    ax.legend(handles=[*ax.get_legend_handles_labels()[0][:3], *marks], fontsize=8, loc="lower right")
    style.log_axis(ax, "xy")
    ax.set_xlabel("TPOT (ms)")
    ax.set_ylabel("output tokens/s per chip")
    ax.set_title("Each design at its best mapping and batch, same interface and power")
    _style(ax)
    return fig


def _fig_shards(rows: list[dict[str, Any]]) -> MplFigure:
    import textwrap

    fig, ax = style.figure(7.8, 4.6)
    seen: dict[float, str] = {}
    for mid, _ in SHARD_MODELS:
        per = kv_bytes_per_head_token(llmhw.load_model(mid))
        seen[per] = f"{seen[per]}, {mid}" if per in seen else mid
    line_colors = (style.PALETTE[0], style.PALETTE[1], style.PALETTE[9])
    for j, (per, names) in enumerate(sorted(seen.items())):
        ax.plot(CONTEXTS, CONTEXTS * per, color=line_colors[j], lw=2,
                label=textwrap.fill(f"{names} ({per:.0f} B per token)", 58))
    ax.axhspan(32e6, 64e6, color=COLORS["pim-hbm"], alpha=0.2)
    ax.text(CONTEXTS[0] * 1.1, 40e6, "PIM bank, 32-64 MB (paper)", fontsize=8.5, color="#8A3D6C")
    ax.axhspan(16e9, 32e9, color=COLORS["pnm-hbm"], alpha=0.2)
    ax.text(CONTEXTS[0] * 1.1, 20e9, "PNM shard, 16-32 GB (paper)", fontsize=8.5, color="#006B4F")
    ax.set_xscale("log", base=2)
    style.log_axis(ax, "y", plain=False)
    ax.set_ylim(1e5, 1e11)
    ticks = [2 ** k for k in range(10, 22, 2)]
    ax.set_xticks(ticks, labels=[f"{t // 1024}k" if t < 2 ** 20 else f"{t // 2 ** 20}M" for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("context (tokens)")
    ax.set_ylabel("one request's cache of one KV head (bytes)")
    ax.set_title("Decode attention: a KV head must sit in one compute unit's shard")
    ax.legend(fontsize=8, loc="lower right")
    _style(ax)
    return fig


# ------------------------------------------------------------------ verdicts, computed
def _gain(t_ref: float, t: float) -> float:
    """Speed-up of ``t`` over ``t_ref`` (both times): > 1 is faster."""
    return float(t_ref / t)


def _compare(ratio: float, tol: float = 0.02) -> str:
    """'as fast as' (within ``tol``) / 'N.NNx faster than' / 'N.NNx slower than' from a speed ratio."""
    if abs(ratio - 1.0) <= tol:
        return "as fast as"
    return f"{ratio:.2f}x faster than" if ratio > 1 else f"{1 / ratio:.2f}x slower than"


def saturation_multiplier(tpot: np.ndarray, tol: float = 0.02) -> float | None:
    """The smallest multiplier beyond which doubling the internal bandwidth changes TPOT by at most
    ``tol`` at every further step (the near-memory compute, not bandwidth, then binds); None if
    TPOT still falls at the end of the sweep."""
    steps = tpot[1:] / tpot[:-1]
    for k in range(len(steps)):
        if np.all(steps[k:] >= 1 - tol):
            return float(MULTIPLIERS[k])
    return None


def _peak_tflops(tech: str) -> float:
    """The near-memory units' peak BF16/FP16 FLOP/s on one H100's HBM3 tier, TFLOP/s."""
    chip = scenario(tech).chip
    peaks = tier_peak_flops(chip.near_memory, chip.near_memory_tier)
    return max(peaks.get(d, 0.0) for d in ("bf16", "fp16")) / 1e12


def _design_findings(sw: dict[Any, dict[str, np.ndarray]], designs_t: Table) -> list[str]:
    """TPOT, energy and capacity of the designs, at the same batch."""
    d = {r["design"]: r for r in designs_t.rows}
    hbm, pim, pnm = d[LABELS[None]], d[LABELS["pim-hbm"]], d[LABELS["pnm-hbm"]]
    j = {int(b): i for i, b in enumerate(BATCHES)}
    k4 = int(np.where(MULTIPLIERS == 4)[0][0])
    t = {tech: sw[tech]["tpot_s"] * 1e3 for tech in TECHS}
    floor1 = float(sw[None]["decode_comm_s"][0, j[1]] + sw[None]["decode_overhead_s"][0, j[1]]) * 1e3
    gain16 = _best_gain_at_large_batch(sw)
    sat = {tech: {b: saturation_multiplier(t[tech][:, j[b]]) for b in (1, 4)} for tech in TECHS}

    def sat_text(tech: str, b: int) -> str:
        m = sat[tech][b]
        return (f"TPOT still falls at {MULTIPLIERS[-1]}x" if m is None else
                f"beyond {m:g}x more internal bandwidth changes TPOT by under 2% ({t[tech][:, j[b]].min():.2f} ms: "
                f"bandwidth no longer binds; the units' {_peak_tflops(tech):.0f} TFLOP/s per chip and the rest of "
                "the step remain)")
    # Energy at batch 1: how much of HBM's J/token is static + host power (time), and how much of
    # PIM's saving comes from time rather than cheaper bits.
    g1 = {tech: {k: np.asarray(v)[_at_preset(tech), j[1]] for k, v in sw[tech].items()} for tech in (None, *TECHS)}
    parts = {tech: _per_token_parts(g1[tech], 8) for tech in g1}
    static_share = float(parts[None]["static + host"] / g1[None]["energy_j_per_token"])
    saved = float(g1[None]["energy_j_per_token"] - g1["pim-hbm"]["energy_j_per_token"])
    saved_time = float(parts[None]["static + host"] - parts["pim-hbm"]["static + host"])
    e16 = [r["energy_b16_j_per_token"] for r in (hbm, pim, pnm)]
    return [
        f"Same batch, batch 1: HBM-PIM at its 4x internal bandwidth is "
        f"{_compare(_gain(hbm['tpot_b1_ms'], pim['tpot_b1_ms']))} HBM for Llama 3.1 70B on 8 H100s "
        f"({hbm['tpot_b1_ms']} -> {pim['tpot_b1_ms']} ms); PNM on the base die at 1x is "
        f"{_compare(_gain(hbm['tpot_b1_ms'], pnm['tpot_b1_ms']))} HBM ({pnm['tpot_b1_ms']} ms; same bandwidth, "
        f"cheaper bits), and at 4x {_compare(_gain(t['pim-hbm'][k4, j[1]], t['pnm-hbm'][k4, j[1]]))} PIM at 4x "
        f"({t['pnm-hbm'][k4, j[1]]:.2f} ms). PIM: {sat_text('pim-hbm', 1)}; PNM: {sat_text('pnm-hbm', 1)}; the "
        f"floor of collectives and overheads is {floor1:.1f} ms per step.",
        f"Same batch, batch 4: PIM {sat_text('pim-hbm', 4)}, against {hbm['tpot_b4_ms']} ms on HBM; PNM reaches "
        f"{t['pnm-hbm'][:, j[4]].min():.2f} ms. At batch 16 and 64 "
        + (f"neither has the FLOP/s to beat the GPU: TPOT stays within {gain16:.0%} of HBM's ({hbm['tpot_b16_ms']} "
           f"and {hbm['tpot_b64_ms']} ms)." if gain16 < 0.05 else
           f"the best multiplier still gains {gain16:.0%} over HBM's {hbm['tpot_b16_ms']} ms (batch 16)."),
        f"Energy: reading inside the memory costs {pim['read_pj_per_bit']} (PIM) and {pnm['read_pj_per_bit']} (PNM) "
        f"pJ/bit against HBM3's {hbm['read_pj_per_bit']}, so the decode steps' memory reads per output token fall "
        f"from {hbm['decode_memory_b1_j_per_token']:.2f} J to {pim['decode_memory_b1_j_per_token']:.2f} J (PIM) and "
        f"{pnm['decode_memory_b1_j_per_token']:.2f} J (PNM) at batch 1. The whole system spends "
        f"{hbm['energy_b1_j_per_token']} J (HBM), {pim['energy_b1_j_per_token']} J (PIM) and "
        f"{pnm['energy_b1_j_per_token']} J (PNM) per token; static and host power times TPOT are "
        f"{static_share:.0%} of HBM's, and {saved_time / saved:.0%} of PIM's {saved:.1f} J saving is that time "
        f"({'mainly time, not cheaper bits' if saved_time > 0.5 * saved else 'mainly cheaper bits'}). At batch 16 "
        f"the three spend {min(e16)}-{max(e16)} J.",
        f"Capacity: PIM gives 25 % of the HBM to its logic; the largest batch falls from {hbm['max_batch']} to "
        f"{pim['max_batch']} requests; PNM's is {pnm['max_batch']}.",
    ]


def verdict(name: str, lat: float | None, thr: list[float], tol: float = 0.02) -> str:
    """What a design's gains over HBM at its best mapping add up to: ``lat`` its gain at the lowest
    TPOT (HBM's TPOT / its own), ``thr`` its throughput gains under the TPOT limits."""
    if lat is None or not thr:
        return f"{name} cannot be ranked (no feasible mapping for some objective)"
    span = f"{min(thr):.2f}x" if f"{min(thr):.2f}" == f"{max(thr):.2f}" else f"{min(thr):.2f}-{max(thr):.2f}x"
    fast, slow = lat > 1 + tol, lat < 1 - tol
    more, less = min(thr) > 1 + tol, max(thr) < 1 - tol
    even = all(abs(g - 1) <= tol for g in thr)
    if fast and (less or even):
        return (f"{name}'s advantage is a latency one: {lat:.2f}x lower TPOT, but {span} HBM's tokens/s per chip "
                "under the TPOT limits")
    if fast and more:
        return f"{name} wins at every objective ({lat:.2f}x lower TPOT, {span} the throughput)"
    if not fast and not slow and even:
        return f"{name} matches HBM at every objective ({lat:.2f}x on TPOT, {span} on throughput)"
    if not fast and (less or even):
        return f"{name} gains nothing at any objective ({lat:.2f}x on TPOT, {span} on throughput)"
    return f"for {name} the ranking depends on the objective ({lat:.2f}x on TPOT, {span} on throughput)"


def _fair_findings(rows: list[dict[str, Any]], sw: dict[Any, dict[str, np.ndarray]],
                   cands: dict[Any, Candidates]) -> list[str]:
    """Each design at its best mapping, same interface, same envelope; and the comparison basis."""
    by = {(r["objective"], r["design"]): r for r in rows}

    def line(target: float | None) -> str:
        o = objective_label(target)
        h, p, n = (by[o, LABELS[t]] for t in (None, *TECHS))
        def one(r: dict[str, Any], name: str) -> str:
            if not r["feasible"]:
                return f"{name} cannot meet it"
            v = f"{r['tpot_ms']} ms" if target is None else f"{r['tok_s_per_chip']:.0f} tokens/s per chip"
            g = r.get("gain_vs_hbm_x")
            return (f"{name} {v} ({r['mapping']}, batch {r['batch']}, {r['decode_bound']} bound"
                    + (f", {g:.2f}x HBM" if g is not None and name != "HBM" else "") + ")")
        return f"{o}: " + "; ".join(one(r, name) for r, name in ((h, "HBM"), (p, "PIM"), (n, "PNM")))

    verdicts = []
    for tech, name in (("pim-hbm", "PIM"), ("pnm-hbm", "PNM")):
        gains = {t: by[objective_label(t), LABELS[tech]].get("gain_vs_hbm_x") for t in TPOT_TARGETS_S}
        verdicts.append(verdict(name, gains[None], [g for t, g in gains.items() if t is not None and g is not None]))
    # Why, under the loosest TPOT limit: what bounds each design's best step, and whether PIM's
    # batch stops at its memory (its logic takes 25 % of the HBM).
    loose = objective_label(TPOT_TARGETS_S[-1])
    h_l, p_l = by[loose, LABELS[None]], by[loose, LABELS["pim-hbm"]]
    why = ""
    if h_l["feasible"] and p_l["feasible"]:
        why = (f" Under the {TPOT_TARGETS_S[-1] * 1e3:.0f} ms limit HBM's best step is {h_l['decode_bound']} bound "
               f"(batch {h_l['batch']}) and PIM's {p_l['decode_bound']} bound (batch {p_l['batch']}"
               + (", its memory's limit" if p_l["batch"] >= p_l["max_batch_at_mapping"] else "") + ").")
    cap = cands[None].power_cap_w
    cap_text = "no power cap (estimated TDP)" if cap is None else f"{cap:.0f} W per chip"
    over = 0 if cap is None else sum(int(np.sum(c.a["fits"].astype(bool) & (c.a["power_w_per_chip_model"] > cap)))
                                     for c in cands.values())
    draw = max(float(np.max(np.where(feasible(c), c.a["power_w_per_chip_model"], 0.0))) for c in cands.values())
    sweep_w = max(float(np.max(sw[t]["power_w_per_chip_model"])) for t in sw)
    bws = {c.interface_bandwidth for c in cands.values()}
    # At the same batch, where does PIM (at its preset) gain most over HBM?
    g = sw[None]["tpot_s"][0] / sw["pim-hbm"]["tpot_s"][_at_preset("pim-hbm")]
    j_flop = api.economics_constants(scenario("pim-hbm")).j_per_flop["near_memory"]
    return [
        f"Like with like (near-memory-fair): each design at its best mapping, same {bws.pop() / 1e12:.2f} TB/s "
        f"HBM3 interface and {cap_text}. {line(None)}. {line(TPOT_TARGETS_S[1])}. "
        f"{line(TPOT_TARGETS_S[2])}. So {verdicts[0]}; {verdicts[1]}.{why}",
        f"Assumptions and doubts: same interface (all three keep the H100's HBM3 tier; the presets' device FLOP/s "
        f"scale with it) and same power envelope ({cap_text}, the TDP holding GPU, HBM and near-memory logic; the "
        f"feasible points draw at most {draw:.0f} W, the multiplier sweep {sweep_w:.0f} W"
        + (", so the envelope never binds here" if over == 0 and (cap is None or sweep_w <= cap) else
           f"; the envelope rules out {over} points that fit in memory") + "). "
        f"The near-memory logic costs only its reads (preset pJ/bit) and {j_flop * 1e12:.1f} pJ per FLOP, no standby "
        "power of its own; PIM's 4x, PNM's FLOP/s and all their energies are vendor figures or estimates "
        "(docs/near_memory.md). The fixed-batch table and the multiplier figure compare at one batch for all "
        f"(PIM gains most at batch {int(BATCHES[int(np.argmax(g))])}, {float(np.max(g)):.2f}x); the TPOT limits are "
        "MLPerf Inference v5.0's for Llama 2 70B. Results follow llmhw's roofline, whose fitted efficiencies are "
        "being refit.",
    ]


def _best_gain_at_large_batch(sw: dict[Any, dict[str, np.ndarray]]) -> float:
    """The largest TPOT saving over HBM any design and multiplier gives at batch 16 or 64."""
    j = {int(b): i for i, b in enumerate(BATCHES)}
    big = [j[16], j[64]]
    t = {tech: sw[tech]["tpot_s"] * 1e3 for tech in TECHS}
    return max(float((1.0 - t[tech][:, big].min(axis=0) / (sw[None]["tpot_s"][0, big] * 1e3)).max())
               for tech in TECHS)


def _shard_findings(shard_rows: list[dict[str, Any]]) -> list[str]:
    """How weights and attention map onto PIM banks and PNM devices."""
    by = {r["model"]: r for r in shard_rows}
    gqa = by["llama-3.1-70b"]
    n = len(shard_rows)
    rows_split = sum(r["weights_map_to_pim_rows_split"] for r in shard_rows)
    pnm_whole = sum(r["weights_map_to_pnm_whole"] for r in shard_rows)
    att8 = sum(r["engine_pim_attention_8k"] for r in shard_rows)
    att128 = sum(r["engine_pim_attention_128k"] for r in shard_rows)
    pnm_min = min(r["max_context_in_48gb_pnm_tokens"] for r in shard_rows)
    return [
        f"Sharding the weights: the weight matrices of {rows_split} of {n} models map to 32 MB PIM banks when split "
        f"by output rows (a row is at most {max(r['largest_row_kb'] for r in shard_rows):.0f} KB); Llama 3.1 70B at "
        f"TP 8 fills {gqa['pim_banks_for_weights']} of an H100's 1875 banks. Kept whole, only "
        f"{gqa['matrix_types_fitting_one_pim_bank_whole']} of its matrix types fit a bank (the LM head slice is "
        f"{gqa['largest_matrix_mb']:.0f} MB), {by['llama-3.1-8b']['matrix_types_fitting_one_pim_bank_whole']} for "
        f"Llama 3.1 8B at TP 1. Every matrix fits one PNM device whole for {pnm_whole} of {n} models.",
        f"Sharding attention: one request's KV head cannot be split, and it outgrows a 32 MB bank beyond "
        f"{gqa['max_context_in_32mb_bank_tokens']:,} tokens for 128-wide GQA heads (Llama, Qwen3, Mixtral), "
        f"{by['deepseek-v3']['max_context_in_32mb_bank_tokens']:,} for DeepSeek-V3's 576-wide MLA latent and "
        f"{by['gpt-oss-120b']['max_context_in_32mb_bank_tokens']:,} for gpt-oss's 64-wide heads (twice that in "
        f"64 MB banks); the engine lets PIM run attention for {att8} of {n} models at 8k tokens and {att128} of {n} "
        f"at 128k. A 48 GB PNM device holds at least {pnm_min / 1e6:.0f} M tokens of a head"
        + (". Long-context attention needs PNM (or partial softmaxes merged outside the memory), as the paper "
           "argues." if att128 < att8 else "."),
    ]


def _setups(cands: dict[Any, Candidates]) -> dict[str, str]:
    """Each figure's setup line, from BASE and the sweeps."""
    w = BASE["workload"]
    model = f"{llmhw.load_model(BASE['model']).name} {BASE['precision']['weights'].upper()}"
    system = f"{BASE['n_chips']} x {style.label('h100-sxm')}"
    lengths = f"{style.tokens(w['input_tokens'])} in / {style.tokens(w['output_tokens'])} out"
    searched = SEARCH_BATCHES[SEARCH_BATCHES > 0]
    cap = cands[None].power_cap_w
    first, last = llmhw.load_model(SHARD_MODELS[0][0]).name, llmhw.load_model(SHARD_MODELS[-1][0]).name
    return {
        "near-memory-tpot": style.setup(f"{model} on {system} (TP{BASE['parallelism']['tp']}), same HBM3 interface",
                                        lengths, "batch " + ", ".join(str(b) for b in PLOT_BATCHES)),
        "near-memory-frontier": style.setup(f"{model} on {system} ({', '.join(mapping_label(p) for p in MAPPINGS)})",
                                            lengths, f"batch {int(searched[0])}-{int(searched[-1]):,}",
                                            "" if cap is None else f"within {cap:.0f} W per chip"),
        "near-memory-energy": style.setup(f"{model} on {system}", lengths,
                                          f"(a) TP{BASE['parallelism']['tp']}, batch 1 and 16; (b) batch 1, and the "
                                          f"best mapping under {INTERACTIVE_S * 1e3:.0f} ms"),
        "near-memory-shards": style.setup(f"KV cache of {len(SHARD_MODELS)} models ({first} to {last}) in BF16",
                                          "one request", f"{style.tokens(round(CONTEXTS[0]))} to "
                                          f"{CONTEXTS[-1] / 2 ** 20:.0f}M tokens of context"),
    }


def run() -> Study:
    sw = _multiplier_sweep()
    designs_t = _designs_table(sw)
    shard_t, shard_rows = _shard_table()
    cands = _fair_search()
    fair_rows = _fair_rows(cands)
    d = {r["design"]: r for r in designs_t.rows}
    hbm, pim = d[LABELS[None]], d[LABELS["pim-hbm"]]
    j = {int(b): i for i, b in enumerate(BATCHES)}
    pim_gain = {b: _gain(float(sw[None]["tpot_s"][0, j[b]]), float(sw["pim-hbm"]["tpot_s"][_at_preset("pim-hbm"), j[b]]))
                for b in PLOT_BATCHES}
    mem_cut = [hbm["decode_memory_b1_j_per_token"] / d[LABELS[t]]["decode_memory_b1_j_per_token"] for t in TECHS]
    fair = {(r["objective"], r["design"]): r for r in fair_rows}
    fg = [fair[objective_label(t), LABELS["pim-hbm"]].get("gain_vs_hbm_x") for t in TPOT_TARGETS_S]
    e40 = [fair[objective_label(INTERACTIVE_S), LABELS[t]].get("energy_j_per_token", np.nan) for t in (None, *TECHS)]
    ctx32 = [r["max_context_in_32mb_bank_tokens"] for r in shard_rows]
    ctx64 = [r["max_context_in_64mb_bank_tokens"] for r in shard_rows]
    ctx_pnm = [r["max_context_in_48gb_pnm_tokens"] for r in shard_rows]
    pnm_best = _gain(float(sw[None]["tpot_s"][0, j[1]]), float(sw["pnm-hbm"]["tpot_s"][:, j[1]].min()))
    findings = [*_design_findings(sw, designs_t), *_fair_findings(fair_rows, sw, cands), *_shard_findings(shard_rows)]
    figures = [
        Figure("near-memory-tpot", "At the same batch, PIM's 4x internal bandwidth cuts TPOT "
               + ", ".join(f"{g:.2f}x at batch {b}" for b, g in pim_gain.items())
               + f" ({hbm['tpot_b1_ms']} -> {pim['tpot_b1_ms']} ms at batch 1); PNM at its 1x is "
               f"{_compare(_gain(hbm['tpot_b1_ms'], d[LABELS['pnm-hbm']]['tpot_b1_ms']))} HBM at batch 1"
               + (f" and {_compare(pnm_best)} HBM at its best multiplier." if pnm_best > 1.02 else "."), _fig_tpot(sw)),
        Figure("near-memory-frontier", "Each design at its best mapping, same HBM3 interface and power envelope: "
               "PIM is " + ", ".join(
                   f"{g:.2f}x HBM at {objective_label(t).split(',')[0]}" for t, g in zip(TPOT_TARGETS_S, fg, strict=True)
                   if g is not None) + ".", _fig_frontier(cands)),
        Figure("near-memory-energy", f"Near-memory reads cut the decode memory energy per token "
               f"{min(mem_cut):.1f}-{max(mem_cut):.1f}x, but the whole system's J/token follows TPOT: batch 1 "
               f"costs {hbm['energy_b1_j_per_token']} J on HBM and {pim['energy_b1_j_per_token']} J with PIM; each "
               f"design at its best mapping under a {INTERACTIVE_S * 1e3:.0f} ms TPOT spends "
               f"{min(e40):.2f}-{max(e40):.2f} J.", _fig_energy(sw, cands)),
        Figure("near-memory-shards", f"One request's KV head outgrows a 32-64 MB PIM bank at "
               f"{min(ctx32) / 1e3:.0f}k-{max(ctx64) / 1e3:.0f}k tokens depending on the head width; a 48 GB PNM "
               f"device holds {min(ctx_pnm) / 1e6:.0f}-{max(ctx_pnm) / 1e6:.0f} M tokens of it.", _fig_shards(shard_rows)),
    ]
    pnm40 = fair[objective_label(INTERACTIVE_S), LABELS["pnm-hbm"]].get("gain_vs_hbm_x")
    pim40 = fair[objective_label(INTERACTIVE_S), LABELS["pim-hbm"]].get("gain_vs_hbm_x")
    at40 = ("" if pim40 is None or pnm40 is None else
            f" At each design's best mapping under a {INTERACTIVE_S * 1e3:.0f} ms TPOT, PIM gives {pim40:.2f}x and PNM "
            f"{pnm40:.2f}x HBM's tokens/s per chip.")
    summary = (f"At one batch for all, PIM's {near_memory_presets()['pim-hbm'].internal_bandwidth_multiplier:g}x "
               f"internal bandwidth cuts the TPOT of {llmhw.load_model(BASE['model']).name} on 8 x H100 " + ", ".join(f"{g:.2f}x at batch {b}" for b, g in pim_gain.items()) + "."
               + at40 + f" One request's KV head outgrows a 32 MB PIM bank beyond {min(ctx32) / 1e3:.0f}k tokens; a "
               f"48 GB PNM device holds {min(ctx_pnm) / 1e6:.0f} M or more.")
    setups = _setups(cands)
    for f in figures:
        f.setup = setups[f.name]
    return Study(
        name="near_memory", title="RQ3a: processing in memory (PIM) vs near memory (PNM) for decode",
        question=("PIM has more bandwidth per watt but must shard the model into 32-64 MB banks with slow DRAM-"
                  "process logic; PNM has less but shards 1000x larger: which suits LLM decode better, in TPOT "
                  "and J/token, and which models map onto PIM banks? (Ma & Patterson 2026, section 4.4, "
                  "Table 4; Q7)"),
        tables=[designs_t, _fair_table(fair_rows), shard_t], figures=figures, findings=findings, summary=summary)
