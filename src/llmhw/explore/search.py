"""Search: the best configuration under service-level objectives, exhaustively.

The space is every valid mapping (tp, pp, ep, dp) of the scenario's model on its chips, times
every combination of the varied paths, times a batch grid from 1 to the memory limit. Each
(mapping, varied values) pair is one vectorized sweep over the batch grid, so a search of
thousands of configurations takes about as long as a few hundred engine builds. Constraints
(``tpot_s<=0.05``) and the memory fit filter the points; the objective ranks the survivors;
the Pareto front is the objective against tokens/s per user.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError
from llmhw.explore.parallel import TaskFailed, ray_map, ray_module, session
from llmhw.explore.sweep import as_scenario, sweep, sweep_economics
from llmhw.explore.vary import apply
from llmhw.scenario import Scenario

_OPS: dict[str, Callable[[Any, Any], Any]] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
_SLO = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")

# Objectives that are better smaller (latencies, costs, energy, carbon, power); every other
# numeric key is better larger (throughput, tokens per MW).
_SMALLER = ("_s", "_usd_per_mtok", "_j_per_token", "_per_mtok", "_w_per_chip", "_w_system", "_bytes")

# The economics keys: a search that asks for one prices the economics too.
_ECONOMICS = ("cost_", "co2e_", "energy_", "tokens_per_mw", "power_", "embodied_", "wear_", "memory_static")


@dataclass(frozen=True)
class Constraint:
    key: str
    op: str
    value: float

    def holds(self, x: np.ndarray) -> np.ndarray:
        return _OPS[self.op](x, self.value)

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.value:g}"


@dataclass(frozen=True)
class Objective:
    key: str
    maximise: bool
    path: bool = False        # the objective is a varied path (inverse design), not a metric

    def better(self, a: float, b: float) -> bool:
        return a > b if self.maximise else a < b

    def __str__(self) -> str:
        return f"{'max' if self.maximise else 'min'}:{self.key}"


def parse_slo(text: str) -> Constraint:
    m = _SLO.match(text if isinstance(text, str) else "")
    if not m:
        raise LlmhwError(f"expected KEY<=VALUE (or <, >=, >), got {text!r}", field="--slo",
                         accepted="e.g. tpot_s<=0.05, ttft_s<=2, tok_s_per_user>=20")
    return Constraint(m.group(1), m.group(2), float(m.group(3)))


def parse_objective(text: str, varied: Sequence[str] = ()) -> Objective:
    """``max:KEY`` / ``min:KEY``, or a bare KEY whose direction follows its meaning (latencies,
    costs and energy smaller; throughput larger). A varied path is an inverse-design objective."""
    t = (text or "").strip()
    explicit = None
    if t.startswith(("max:", "min:")):
        explicit, t = t[:3] == "max", t[4:].strip()
    if not t:
        raise LlmhwError(f"empty objective {text!r}", field="--objective",
                         accepted="a prediction key (output_tok_s_per_chip, cost_usd_per_mtok, ...) or a varied path")
    is_path = t in varied
    # Rates end in _s too (output_tok_s, prefill_tok_s): tokens a second are better larger.
    smaller = t.endswith(_SMALLER) and not t.endswith("tok_s")
    maximise = explicit if explicit is not None else (not smaller and not is_path)
    return Objective(t, maximise, is_path)


def mappings(s: Scenario) -> list[dict[str, Any]]:
    """Every (tp, pp, ep, dp) with tp x pp x dp = n_chips that the scenario's model accepts. A MoE
    model's mappings name ``moe_dp``: its dp replicas either share one copy of the experts over
    all tp x dp chips (attention data parallel, e.g. tp 1, dp = ep) or, with dp > 1, each hold
    all experts on their own tp chips (independent replicas, ep | tp)."""
    n = s.n_chips
    out: list[dict[str, Any]] = []
    for tp in _divisors(n):
        for pp in _divisors(n // tp):
            dp = n // (tp * pp)
            if not s.model.is_moe:
                options: list[dict[str, Any]] = [{"tp": tp, "pp": pp, "ep": 1, "dp": dp}]
            else:
                options = [{"tp": tp, "pp": pp, "ep": ep, "dp": dp, "moe_dp": "shared"} for ep in _divisors(tp * dp)]
                if dp > 1:     # with dp 1 a replicated copy is the shared one
                    options += [{"tp": tp, "pp": pp, "ep": ep, "dp": dp, "moe_dp": "replicated"}
                                for ep in _divisors(tp)]
            for par in options:
                try:
                    s.replace(parallelism=par)
                except LlmhwError:
                    continue
                out.append(par)
    return out


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def batch_grid(max_batch: float, dense_up_to: int = 64, step: float = 1.12) -> np.ndarray:
    """Every batch up to ``dense_up_to``, then about 12% apart, always ending at ``max_batch``."""
    top = int(max(1, np.floor(max_batch)))
    dense = np.arange(1, min(top, dense_up_to) + 1)
    if top <= dense_up_to:
        return dense.astype(float)
    k = int(np.ceil(np.log(top / dense_up_to) / np.log(step)))
    sparse = np.unique(np.round(dense_up_to * step ** np.arange(1, k + 1)).clip(max=top))
    return np.unique(np.concatenate([dense, sparse, [top]])).astype(float)


@dataclass
class SearchResult:
    objective: Objective
    constraints: list[Constraint]
    evaluated: int                               # configurations priced (mapping x varied x batch)
    rejected: dict[str, int]                     # how many each constraint (and the fit) rejected
    best: dict[str, Any] | None                  # the best feasible point: its configuration and metrics
    closest: dict[str, Any] | None = None        # no point feasible: the one nearest the constraints
    pareto: list[dict[str, Any]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    base: Scenario | None = None                 # the searched scenario (before mapping and batch)

    def to_dict(self) -> dict[str, Any]:
        return {"objective": str(self.objective), "slo": [str(c) for c in self.constraints],
                "evaluated": self.evaluated, "rejected": self.rejected, "best": self.best,
                "closest": self.closest, "pareto": self.pareto, "top": self.top, "notes": self.notes}


@dataclass
class _Points:
    """Every priced point, flattened: configuration columns and metric columns."""

    config: list[dict[str, Any]] = field(default_factory=list)    # one per (mapping, varied) block
    block: list[np.ndarray] = field(default_factory=list)          # block index per point
    metrics: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, cfg: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        n = np.asarray(arrays["batch"]).size
        self.block.append(np.full(n, len(self.config)))
        self.config.append(cfg)
        for k, v in arrays.items():
            a = np.asarray(v, dtype=float) if np.asarray(v).dtype != object else None
            if a is None or a.shape not in ((n,), ()):
                continue
            self.metrics.setdefault(k, []).append(np.broadcast_to(a, (n,)).astype(float))

    def columns(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        keys = [k for k, v in self.metrics.items() if len(v) == len(self.config)]
        return np.concatenate(self.block), {k: np.concatenate(self.metrics[k]) for k in keys}


def _needs_economics(keys: Sequence[str]) -> bool:
    return any(k.startswith(_ECONOMICS) for k in keys)


@dataclass
class _Part:
    """What one task of a search priced: (mapping position, configuration, arrays) blocks, and
    the notes and invalid count it adds."""

    blocks: list[tuple[int, dict[str, Any], dict[str, np.ndarray]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    invalid: int = 0
    thinned: bool = False


@dataclass(frozen=True)
class _Task:
    """The search's shared inputs: sent once to every worker."""

    s0: Scenario
    mappings_: tuple[dict[str, Any], ...] | None
    econ: bool
    disaggregate: bool
    budget: int
    total: int              # combinations of the varied values
    parts: int              # tasks each combination's mappings are split into


def _price_part(task: _Task, item: tuple[int, dict[str, Any], int]) -> _Part:
    """One combination of varied values (``item``: its index, the values, which part of its
    mappings), every mapping in that part priced over its batch grid."""
    _, assignment, part = item
    out = _Part()
    try:
        base = apply(task.s0, assignment) if assignment else task.s0
    except LlmhwError as exc:
        if part == 0:             # one part says so, once
            out.invalid += 1
            out.notes.append(f"{assignment}: {exc}")
        return out
    if task.disaggregate:
        if part == 0:
            out.blocks = [(j, {**cfg, "varied": assignment}, arrays)
                          for j, (cfg, arrays) in enumerate(_disaggregated_blocks(base))]
        return out
    maps = list(task.mappings_ or mappings(base))
    for j in range(part, len(maps), task.parts):
        par = maps[j]
        try:
            s = base.replace(parallelism=par)
        except LlmhwError:
            out.invalid += 1
            continue
        cap = sweep(s, batch=np.array([-1.0]))
        grid = batch_grid(float(cap["max_batch"][0]))
        if task.budget and len(grid) * task.total * 8 > task.budget:
            grid = grid[np.unique(np.geomspace(1, len(grid), 24).astype(int) - 1)]
            out.thinned = True
        arrays = sweep_economics(s, batch=grid) if task.econ else sweep(s, batch=grid)
        out.blocks.append((j, {"parallelism": par, "varied": assignment}, arrays))
    return out


def search(scenario: Scenario | dict[str, Any], slo: Sequence[str | Constraint] = (),
           objective: str | Objective = "output_tok_s_per_chip", vary: dict[str, Sequence[Any]] | None = None,
           top: int = 5, budget: int = 2_000_000, mappings_: Sequence[dict[str, int]] | None = None,
           progress: Callable[[int, int], None] | None = None, disaggregate: bool = False,
           workers: int | None = None, address: str | None = None) -> SearchResult:
    """Exhaustive search (see the module docstring). ``vary`` maps paths to the values to try;
    ``mappings_`` restricts the parallel mappings (default: every valid one). ``disaggregate``
    searches prefill/decode pools instead: every split of the chips between the two and every
    mapping of each. ``workers`` (> 1) or ``address`` (a Ray cluster) prices the space on Ray
    workers (docs/scale.md), each within ``budget`` points, so that the space as a whole may be
    ``workers`` times larger before its batch grids are thinned; the result is the same as in
    one process."""
    if isinstance(scenario, dict) and "parallelism" not in scenario:
        # The search chooses the mapping: a scenario without one starts from plain replicas.
        scenario = {**scenario, "parallelism": {"dp": int(scenario.get("n_chips", 1))}}
    s0 = as_scenario(scenario)
    vary = dict(vary or {})
    cons = [c if isinstance(c, Constraint) else parse_slo(c) for c in slo]
    obj = objective if isinstance(objective, Objective) else parse_objective(objective, list(vary))
    econ = _needs_economics([obj.key, *(c.key for c in cons)])
    if disaggregate and econ:
        raise LlmhwError("a disaggregated search prices performance only", field="--objective",
                         accepted="a performance key: output_tok_s_per_chip, tpot_s, ttft_s, ...")
    combos = [dict(zip(vary, vals, strict=True)) for vals in itertools.product(*vary.values())] or [{}]
    if workers is not None and workers < 1:
        raise LlmhwError(f"need at least one worker, got {workers}", field="--workers", accepted="1 or more")
    ray = ray_module(True, address) if (address or (workers or 1) > 1) else None
    with session(ray, workers, address) as n_workers:
        # Enough tasks to keep every worker busy: a combination's mappings split into parts.
        parts = 1 if ray is None or disaggregate else max(1, -(-2 * n_workers // len(combos)))
        task = _Task(s0, tuple(mappings_) if mappings_ else None, econ, disaggregate, budget * n_workers,
                     len(combos), parts)
        items = [(i, a, p) for i, a in enumerate(combos) for p in range(parts)]
        results: list[_Part | None] = [None] * len(items)
        stream = (enumerate(_price_part(task, it) for it in items) if ray is None
                  else ray_map(ray, _price_part, task, items, n_workers))
        for done, (k, part) in enumerate(stream, start=1):
            if isinstance(part, TaskFailed):
                raise part
            results[k] = part
            if progress:
                progress(-(-done // parts), len(combos))
    pts = _Points()
    notes: list[str] = []
    invalid = 0
    for i in range(len(combos)):
        got = [r for r in results[i * parts:(i + 1) * parts] if r is not None]
        invalid += sum(r.invalid for r in got)
        notes += [n for r in got for n in r.notes]
        if any(r.thinned for r in got) and not any("batch grid thinned" in n for n in notes):
            notes.append(f"search space over the budget of {task.budget:,} points: batch grid thinned to 24 per mapping")
        for _, cfg, arrays in sorted((b for r in got for b in r.blocks), key=lambda b: b[0]):
            pts.add(cfg, arrays)
    if not pts.config:
        if notes:      # every varied value failed: say why (the first failure names its field)
            raise LlmhwError(f"no valid configuration; {notes[0]}", field="--vary")
        raise LlmhwError("no valid configuration in the search space", field="search",
                         accepted="a scenario whose model maps onto its chips")
    block, cols = pts.columns()
    for c in [*cons, *([] if obj.path else [obj])]:
        if c.key not in cols:
            raise LlmhwError(f"unknown prediction key '{c.key}'", field="--slo" if isinstance(c, Constraint)
                             else "--objective", accepted=", ".join(sorted(cols)))
    value = np.array([float(pts.config[b]["varied"][obj.key]) for b in block]) if obj.path else cols[obj.key]
    ok = cols["fits"] > 0
    rejected = {"fits": int((~ok).sum())}
    feasible = ok.copy()
    for c in cons:
        held = c.holds(cols[c.key])
        rejected[c.key] = int((ok & ~held).sum())
        feasible &= held
    res = SearchResult(obj, cons, int(block.size), rejected, None, notes=notes[:10], base=s0)
    if invalid:
        res.rejected["invalid"] = invalid
    score = np.where(feasible, value if obj.maximise else -value, -np.inf)
    order = np.argsort(-score, kind="stable")
    if feasible.any():
        res.top = [_point(pts, block, cols, j, obj, value) for j in order[:max(1, top)] if feasible[j]]
        res.best = dict(res.top[0])
        res.pareto = _pareto(pts, block, cols, np.flatnonzero(feasible), obj, value)
    else:
        j = _closest(cols, ok, cons)
        if j is not None:
            res.closest = _point(pts, block, cols, j, obj, value)
    return res


def _disaggregated_blocks(base: Scenario) -> Any:
    """Every split of ``base.n_chips`` into a prefill and a decode pool, every mapping of each,
    as (configuration, metric arrays over the decode pool's batch grid)."""
    from llmhw.scenario.disaggregated import Disaggregated
    from llmhw.serving.disaggregated import evaluate as evaluate_disaggregated

    w = base.workload
    n = base.n_chips

    def pool_maps(k: int) -> list[dict[str, int]]:
        try:
            return mappings(base.replace(n_chips=k, parallelism={"tp": 1, "pp": 1, "ep": 1, "dp": k}))
        except LlmhwError:
            return []
    for n_p in range(1, n):
        for mp in pool_maps(n_p):
            for md in pool_maps(n - n_p):
                dis = Disaggregated(base.replace(n_chips=n_p, parallelism=mp),
                                    base.replace(n_chips=n - n_p, parallelism=md))
                cap = evaluate_disaggregated(dis, -1.0, w.input_tokens, w.output_tokens)
                grid = batch_grid(float(cap.batch))
                arrays = evaluate_disaggregated(dis, grid, w.input_tokens, w.output_tokens).as_dict()
                yield {"pools": {"prefill": {"n_chips": n_p, "parallelism": mp},
                                 "decode": {"n_chips": n - n_p, "parallelism": md}}}, arrays


def _point(pts: _Points, block: np.ndarray, cols: dict[str, np.ndarray], j: int, obj: Objective,
           value: np.ndarray) -> dict[str, Any]:
    cfg = pts.config[int(block[j])]
    keys = ("batch", "tpot_s", "ttft_s", "tok_s_per_user", "output_tok_s", "output_tok_s_per_chip")
    return {**cfg, "batch": int(cols["batch"][j]), "objective": float(value[j]),
            **{k: float(cols[k][j]) for k in keys if k in cols and k != "batch"}}


def scenario_of(s0: Scenario, p: dict[str, Any]) -> Any:
    """The scenario of one searched point: its varied values, mapping (or pools) and batch."""
    s = apply(s0, p["varied"]) if p["varied"] else s0
    s = s.replace(workload={"batch": int(p["batch"])})
    if "pools" in p:
        from llmhw.scenario.disaggregated import Disaggregated

        pools = p["pools"]
        return Disaggregated(*(s.replace(n_chips=pools[k]["n_chips"], parallelism=pools[k]["parallelism"])
                               for k in ("prefill", "decode")))
    return s.replace(parallelism=p["parallelism"])


def _pareto(pts: _Points, block: np.ndarray, cols: dict[str, np.ndarray], idx: np.ndarray, obj: Objective,
            value: np.ndarray) -> list[dict[str, Any]]:
    """Points no other beats on both the objective and tokens/s per user."""
    speed = cols["tok_s_per_user"][idx]
    v = value[idx] if obj.maximise else -value[idx]
    order = np.lexsort((-v, -speed))          # fastest per user first, then best objective
    front, best = [], -np.inf
    for k in order:
        if v[k] > best:
            front.append(int(idx[k]))
            best = v[k]
    return [_point(pts, block, cols, j, obj, value) for j in front]


def _closest(cols: dict[str, np.ndarray], ok: np.ndarray, cons: list[Constraint]) -> int | None:
    """Among the points that fit, the one whose worst constraint is the least violated (relative)."""
    if not ok.any():
        return None
    worst = np.zeros(ok.size)
    for c in cons:
        x = cols[c.key]
        ratio = x / c.value if c.op in ("<=", "<") else c.value / np.maximum(x, 1e-30)
        worst = np.maximum(worst, ratio)
    worst = np.where(ok, worst, np.inf)
    return int(np.argmin(worst))
