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
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import NullFormatter

import llmhw
from llmhw import api
from llmhw.core.units import bytes_per_element
from llmhw.hardware.catalog import near_memory_presets
from llmhw.hardware.near_memory import gemv_item, shard_fit
from llmhw.studies.base import Figure, Study, Table

MULTIPLIERS = np.array([1, 2, 4, 8, 16, 32])
BATCHES = np.array([1, 4, 16, 64])
PLOT_BATCHES = (1, 4, 16)
TECHS = ("pim-hbm", "pnm-hbm")
LABELS = {None: "H100 HBM3, no near-memory compute", "pim-hbm": "PIM in the HBM banks (HBM-PIM)",
          "pnm-hbm": "PNM on the HBM base die"}
COLORS = {None: "0.3", "pim-hbm": "C3", "pnm-hbm": "C0"}
CONTEXTS = np.logspace(np.log10(1024), np.log10(2 ** 21), 60)

BASE: dict[str, Any] = {
    "model": "llama-3.1-70b", "hardware": "hgx-h100-8", "n_chips": 8, "parallelism": {"tp": 8},
    "precision": {"weights": "bf16", "kv_cache": "bf16"},
    "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1},
}

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


def _designs_table(sw: dict[Any, dict[str, np.ndarray]]) -> Table:
    presets = near_memory_presets()
    rows = []
    for tech in (None, *TECHS):
        a = sw[tech]
        i = 0 if tech is None else int(np.where(MULTIPLIERS == presets[tech].internal_bandwidth_multiplier)[0][0])
        g = {k: np.asarray(v)[i] for k, v in a.items()}
        nm = presets.get(tech) if tech else None
        row = {"design": LABELS[tech], "internal_bandwidth_x": nm.internal_bandwidth_multiplier if nm else 1,
               "read_pj_per_bit": round((nm.energy_j_per_bit if nm else 3.9e-12) * 1e12, 2),
               "max_batch": int(g["max_batch"][0])}
        for j, b in enumerate(BATCHES):
            row[f"tpot_b{b}_ms"] = round(float(g["tpot_s"][j]) * 1e3, 2)
        for j, b in enumerate(BATCHES):
            if b in (1, 16):
                row[f"energy_b{b}_j_per_token"] = round(float(g["energy_j_per_token"][j]), 2)
                row[f"decode_memory_b{b}_j_per_token"] = round(float(
                    _per_token_parts({k: np.asarray(v)[j] for k, v in g.items()}, 8)["memory reads (decode)"]), 3)
        rows.append(row)
    note = ("Llama 3.1 70B, BF16, 8 x H100 (HGX), TP 8, 1024 in / 1024 out, presets at their own internal "
            "bandwidth multiplier. J/token from llmhw.economics (whole system, chips + host); "
            "decode_memory_j_per_token: energy of the decode steps' memory reads per output token (HBM reads "
            "at 3.9 pJ/bit, reads inside the memory at the preset's pJ/bit). PIM gives up 25 % of the HBM to "
            "its logic, hence the smaller max batch.")
    return Table("near-memory-designs", "PIM vs PNM vs plain HBM, Llama 3.1 70B decode on 8 x H100", rows, note)


def _style(ax: Any) -> None:
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)


def _fig_tpot(sw: dict[Any, dict[str, np.ndarray]]) -> MplFigure:
    fig = MplFigure(figsize=(11, 3.9), layout="constrained")
    axes = fig.subplots(1, len(PLOT_BATCHES), sharey=False)
    presets = near_memory_presets()
    for ax, b in zip(axes, PLOT_BATCHES, strict=True):
        j = int(np.where(BATCHES == b)[0][0])
        plain = sw[None]
        ax.axhline(float(plain["tpot_s"][0, j]) * 1e3, color=COLORS[None], lw=1.5, label=LABELS[None])
        floor = float(plain["decode_comm_s"][0, j] + plain["decode_overhead_s"][0, j])
        ax.axhline(floor * 1e3, color="0.5", ls=":", lw=1, label="collectives + overheads of a step")
        for tech in TECHS:
            a = sw[tech]
            ax.plot(MULTIPLIERS, a["tpot_s"][:, j] * 1e3, marker="o", ms=4, color=COLORS[tech], label=LABELS[tech])
            k = int(np.where(MULTIPLIERS == presets[tech].internal_bandwidth_multiplier)[0][0])
            ax.plot(MULTIPLIERS[k], a["tpot_s"][k, j] * 1e3, marker="*", ms=12, color=COLORS[tech], ls="none")
        ax.set_xscale("log", base=2)
        ax.set_xticks(MULTIPLIERS, labels=[str(x) for x in MULTIPLIERS])
        ax.set_xlabel("internal / external bandwidth (x)")
        ax.set_title(f"batch {b}")
        ax.set_ylim(bottom=0)
        _style(ax)
    axes[0].set_ylabel("TPOT (ms)")
    axes[0].legend(fontsize=7, loc="lower left", title="Llama 3.1 70B BF16, 8 x H100, TP 8 (star: preset)",
                   title_fontsize=7)
    return fig


def _fig_energy(sw: dict[Any, dict[str, np.ndarray]]) -> MplFigure:
    fig = MplFigure(figsize=(10, 4.0), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for b, ls in ((1, "-"), (16, "--")):
        j = int(np.where(BATCHES == b)[0][0])
        ax1.axhline(float(sw[None]["energy_j_per_token"][0, j]), color=COLORS[None], ls=ls, lw=1.2)
        for tech in TECHS:
            ax1.plot(MULTIPLIERS, sw[tech]["energy_j_per_token"][:, j], ls, marker="o", ms=3.5, color=COLORS[tech])
    handles = [ax1.plot([], [], color=COLORS[t], label=LABELS[t])[0] for t in (None, *TECHS)]
    handles += [ax1.plot([], [], "k-", label="batch 1")[0], ax1.plot([], [], "k--", label="batch 16")[0]]
    ax1.legend(handles=handles, fontsize=7, loc="center right")
    ax1.set_xscale("log", base=2)
    ax1.set_yscale("log")
    ax1.set_yticks([3, 5, 10, 20, 30, 50], labels=["3", "5", "10", "20", "30", "50"])
    ax1.yaxis.set_minor_formatter(NullFormatter())
    ax1.set_xticks(MULTIPLIERS, labels=[str(x) for x in MULTIPLIERS])
    ax1.set_xlabel("internal / external bandwidth (x)")
    ax1.set_ylabel("energy per output token, whole system (J)")
    ax1.set_title("(a) J/token vs bandwidth multiplier")
    # (b) where the joules go at batch 1, presets at their own multiplier
    presets = near_memory_presets()
    j = int(np.where(BATCHES == 1)[0][0])
    names = []
    stacks = []
    for tech in (None, *TECHS):
        i = 0 if tech is None else int(np.where(MULTIPLIERS == presets[tech].internal_bandwidth_multiplier)[0][0])
        g = {k: np.asarray(v)[i, j] for k, v in sw[tech].items()}
        stacks.append(_per_token_parts(g, 8))
        names.append({None: "HBM3", "pim-hbm": "PIM", "pnm-hbm": "PNM"}[tech])
    bottom = np.zeros(len(names))
    for k, color in zip(stacks[0], ("C2", "C1", "0.7", "C4"), strict=True):
        v = np.array([st[k] for st in stacks])
        ax2.bar(names, v, bottom=bottom, color=color, label=k, width=0.55)
        bottom += v
    ax2.set_ylabel("energy per output token (J)")
    ax2.set_title("(b) where the energy goes, batch 1 (presets)")
    ax2.legend(fontsize=7.5)
    for ax in (ax1, ax2):
        _style(ax)
    return fig


def _fig_shards(rows: list[dict[str, Any]]) -> MplFigure:
    fig = MplFigure(figsize=(7.8, 4.6), layout="constrained")
    ax = fig.add_subplot()
    seen: dict[float, str] = {}
    for mid, _ in SHARD_MODELS:
        m = llmhw.load_model(mid)
        per = kv_bytes_per_head_token(m)
        key = per
        if key in seen:
            seen[key] += f", {mid}"
            continue
        seen[key] = mid
    for j, (per, names) in enumerate(sorted(seen.items())):
        ax.plot(CONTEXTS, CONTEXTS * per, color=f"C{j}", lw=2,
                label=f"{names} ({per:.0f} B per token)")
    ax.axhspan(32e6, 64e6, color="C3", alpha=0.15)
    ax.text(CONTEXTS[0] * 1.1, 40e6, "PIM bank, 32-64 MB (paper)", fontsize=8, color="C3")
    ax.axhspan(16e9, 32e9, color="C0", alpha=0.15)
    ax.text(CONTEXTS[0] * 1.1, 20e9, "PNM shard, 16-32 GB (paper)", fontsize=8, color="C0")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_ylim(1e5, 1e11)
    ticks = [2 ** k for k in range(10, 22, 2)]
    ax.set_xticks(ticks, labels=[f"{t // 1024}k" if t < 2 ** 20 else f"{t // 2 ** 20}M" for t in ticks])
    ax.set_xlabel("context (tokens)")
    ax.set_ylabel("one request's cache of one KV head (bytes)")
    ax.set_title("Decode attention: a KV head must sit in one compute unit's shard (BF16)")
    ax.legend(fontsize=7, loc="lower right")
    _style(ax)
    return fig


def _best_gain_at_large_batch(sw: dict[Any, dict[str, np.ndarray]]) -> float:
    """The largest TPOT saving over HBM any design and multiplier gives at batch 16 or 64."""
    j = {int(b): i for i, b in enumerate(BATCHES)}
    big = [j[16], j[64]]
    t = {tech: sw[tech]["tpot_s"] * 1e3 for tech in TECHS}
    return max(float((1.0 - t[tech][:, big].min(axis=0) / (sw[None]["tpot_s"][0, big] * 1e3)).max())
               for tech in TECHS)


def _design_findings(sw: dict[Any, dict[str, np.ndarray]], designs_t: Table) -> list[str]:
    """TPOT, energy and capacity of the designs."""
    d = {r["design"]: r for r in designs_t.rows}
    hbm, pim, pnm = d[LABELS[None]], d[LABELS["pim-hbm"]], d[LABELS["pnm-hbm"]]
    j = {int(b): i for i, b in enumerate(BATCHES)}
    k4 = int(np.where(MULTIPLIERS == 4)[0][0])
    t = {tech: sw[tech]["tpot_s"] * 1e3 for tech in TECHS}
    floor1 = float(sw[None]["decode_comm_s"][0, j[1]] + sw[None]["decode_overhead_s"][0, j[1]]) * 1e3
    gain16 = _best_gain_at_large_batch(sw)
    return [
        f"Batch 1: HBM-PIM at its 4x internal bandwidth cuts Llama 3.1 70B's TPOT on 8 H100s from "
        f"{hbm['tpot_b1_ms']} to {pim['tpot_b1_ms']} ms ({hbm['tpot_b1_ms'] / pim['tpot_b1_ms']:.1f}x). PNM on the "
        f"base die at 1x is no faster than HBM ({pnm['tpot_b1_ms']} ms): same bandwidth, only cheaper bits; at 4x it "
        f"matches PIM ({t['pnm-hbm'][k4, j[1]]:.2f} ms). Beyond 8x neither gains: PIM stops at "
        f"{t['pim-hbm'][:, j[1]].min():.2f} ms (its 13 TFLOP/s per chip), PNM at {t['pnm-hbm'][:, j[1]].min():.2f} ms "
        f"(26 TFLOP/s), over a floor of {floor1:.1f} ms of collectives and overheads per step.",
        f"Batch 4: PIM's DRAM-process compute already binds: {t['pim-hbm'][:, j[4]].min():.2f} ms at any multiplier "
        f"above 2x against {hbm['tpot_b4_ms']} ms on HBM, while PNM's logic-process compute reaches "
        f"{t['pnm-hbm'][:, j[4]].min():.2f} ms. At batch 16 and 64 "
        + (f"neither has the FLOP/s to beat the GPU: TPOT stays within {gain16:.0%} of HBM's ({hbm['tpot_b16_ms']} "
           f"and {hbm['tpot_b64_ms']} ms), so near-memory compute pays only at the small batches of latency-bound "
           "decode." if gain16 < 0.05 else
           f"the best multiplier still gains {gain16:.0%} over HBM's {hbm['tpot_b16_ms']} ms (batch 16)."),
        f"Energy: reading inside the memory costs 1.1 (PIM) and 1.2 (PNM) pJ/bit against HBM3's 3.9, so the decode "
        f"steps' memory reads per output token fall from {hbm['decode_memory_b1_j_per_token']:.2f} J to "
        f"{pim['decode_memory_b1_j_per_token']:.2f} J (PIM) and {pnm['decode_memory_b1_j_per_token']:.2f} J (PNM) at "
        f"batch 1 (8 chips each reading 17.6 GB per token). The whole system spends {hbm['energy_b1_j_per_token']} J (HBM), "
        f"{pim['energy_b1_j_per_token']} J (PIM) and {pnm['energy_b1_j_per_token']} J (PNM) per token: static and host power "
        f"times TPOT dominate at batch 1, so near-memory compute saves energy mainly by saving time. At batch 16 "
        f"all three spend about {hbm['energy_b16_j_per_token']} J.",
        f"Capacity: PIM gives 25 % of the HBM to its logic; the largest batch falls from {hbm['max_batch']} to "
        f"{pim['max_batch']} requests. PNM leaves the capacity alone.",
    ]


def _shard_findings(shard_rows: list[dict[str, Any]]) -> list[str]:
    """How weights and attention map onto PIM banks and PNM devices."""
    by = {r["model"]: r for r in shard_rows}
    gqa = by["llama-3.1-70b"]
    return [
        f"Sharding the weights: every weight matrix of every model maps to 32 MB PIM banks when split by output rows "
        f"(a row is at most {max(r['largest_row_kb'] for r in shard_rows):.0f} KB); Llama 3.1 70B at TP 8 fills "
        f"{gqa['pim_banks_for_weights']} of an H100's 1875 banks. Kept whole, only "
        f"{gqa['matrix_types_fitting_one_pim_bank_whole']} of its matrix types fit a bank (the LM head slice is "
        f"{gqa['largest_matrix_mb']:.0f} MB), {by['llama-3.1-8b']['matrix_types_fitting_one_pim_bank_whole']} for "
        f"Llama 3.1 8B at TP 1. Every matrix fits one PNM device whole.",
        f"Sharding attention is the binding constraint: one request's KV head cannot be split, and it outgrows a "
        f"32 MB bank beyond {gqa['max_context_in_32mb_bank_tokens']:,} tokens for 128-wide GQA heads (Llama, Qwen3, "
        f"Mixtral), {by['deepseek-v3']['max_context_in_32mb_bank_tokens']:,} for DeepSeek-V3's 576-wide MLA latent "
        f"and {by['gpt-oss-120b']['max_context_in_32mb_bank_tokens']:,} for gpt-oss's 64-wide heads (twice that in "
        f"64 MB banks); the engine keeps attention off PIM at 128k tokens for every model. A 48 GB PNM device holds "
        f"{gqa['max_context_in_48gb_pnm_tokens'] / 1e6:.0f} M tokens of a head. Long-context attention needs PNM "
        f"(or partial softmaxes merged outside the memory), as the paper argues; short-context phone workloads fit PIM.",
    ]


def run() -> Study:
    sw = _multiplier_sweep()
    designs_t = _designs_table(sw)
    shard_t, shard_rows = _shard_table()
    d = {r["design"]: r for r in designs_t.rows}
    hbm, pim = d[LABELS[None]], d[LABELS["pim-hbm"]]
    gain16 = _best_gain_at_large_batch(sw)
    findings = [*_design_findings(sw, designs_t), *_shard_findings(shard_rows)]
    figures = [
        Figure("near-memory-tpot", f"PIM's 4x internal bandwidth cuts batch-1 TPOT {hbm['tpot_b1_ms'] / pim['tpot_b1_ms']:.1f}x "
               f"({hbm['tpot_b1_ms']} -> {pim['tpot_b1_ms']} ms) but its DRAM-process compute caps the gain by "
               "batch 4; PNM needs internal bandwidth above 1x to gain anything"
               + (", and neither helps at batch 16." if gain16 < 0.05 else "."),
               _fig_tpot(sw)),
        Figure("near-memory-energy", "Near-memory reads cut the decode memory energy per token 3-3.5x, but the "
               "whole system's J/token follows TPOT: static and host power dominate decode energy, so PIM's "
               "batch-1 speed-up, not its cheaper bits, halves J/token.",
               _fig_energy(sw)),
        Figure("near-memory-shards", "One request's KV head outgrows a 32-64 MB PIM bank at 28k-250k tokens "
               "depending on the head width; PNM's 16-32 GB shards hold it to tens of millions of tokens.",
               _fig_shards(shard_rows)),
    ]
    return Study(
        name="near_memory", title="RQ3a: processing in memory (PIM) vs near memory (PNM) for decode",
        question=("PIM has more bandwidth per watt but must shard the model into 32-64 MB banks with slow DRAM-"
                  "process logic; PNM has less but shards 1000x larger: which suits LLM decode better, in TPOT "
                  "and J/token, and which models map onto PIM banks? (Ma & Patterson 2026, section 4.4, "
                  "Table 4; Q7)"),
        tables=[designs_t, shard_t], figures=figures, findings=findings)
