"""Quick flags: a scenario given on the command line, as people type it
(``llmhw predict --model llama-3.1-70b --hardware h100-sxm --tp 8 --batch 64``), alone or over a
scenario file's fields. Each flag sets one field of the scenario mapping, so a command with flags
equals the YAML with those fields: the same loader checks them and names the same fields.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer

from llmhw.scenario.flags import FLAG_PATHS

# flag -> (type, help); the field each sets is in llmhw.scenario.flags.FLAG_PATHS
_FLAG_HELP: dict[str, tuple[type, str]] = {
    "model": (str, "catalog model id or path to a config.json (scenario field model)"),
    "hardware": (str, "catalog chip or system id, or a hardware YAML (hardware)"),
    "n_chips": (int, "chips (n_chips; default tp x pp x dp)"),
    "tp": (int, "tensor parallel degree (parallelism.tp)"),
    "pp": (int, "pipeline stages (parallelism.pp)"),
    "ep": (int, "expert parallel degree (parallelism.ep)"),
    "dp": (int, "data parallel replicas (parallelism.dp)"),
    "weights": (str, "weight precision: bf16, fp8, fp4, int4, ... (precision.weights)"),
    "kv_cache": (str, "KV-cache precision (precision.kv_cache)"),
    "compute": (str, "the type GEMMs multiply in, whatever the weights are stored in: bf16 for W8A16 "
                "(precision.compute)"),
    "ranks_per_chip": (int, "engine ranks per chip, e.g. 2 NeuronCores on Inferentia2 (parallelism.ranks_per_chip)"),
    "input_tokens": (int, "prompt tokens per request (workload.input_tokens)"),
    "output_tokens": (int, "generated tokens per request (workload.output_tokens)"),
    "batch": (str, "requests in flight, or max (workload.batch)"),
    "engine": (str, "serving engine profile: vllm, sglang, trtllm, ... (engine)"),
}
# flag -> (type, help, the field it sets in the scenario mapping)
QUICK_FLAGS: dict[str, tuple[type, str, tuple[str, ...]]] = {
    name: (*_FLAG_HELP[name], path) for name, path in FLAG_PATHS.items()}


def with_quick_flags(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the quick flags to a typer command: ``fn`` receives them as one mapping, ``quick``
    (flag -> value, only those given)."""
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.name != "quick"]
    # A flag the command already has (predict's and simulate's --batch, which also names a JSONL
    # file) stays the command's own: it hands a batch size on itself.
    taken = {d for p in params for d in getattr(p.default, "param_decls", None) or ()}
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind | None,
                               default=typer.Option(None, flag, help=text,
                                                    rich_help_panel="Scenario flags (instead of or over the file)"))
             for name, (kind, text, _) in QUICK_FLAGS.items()
             if (flag := f"--{name.replace('_', '-')}") not in taken]

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        quick = {p.name: kwargs[p.name] for p in added if kwargs.get(p.name) is not None}
        for p in added:
            kwargs.pop(p.name, None)
        return fn(*args, quick=quick, **kwargs)

    command.__signature__ = sig.replace(parameters=[*params, *added])     # type: ignore[attr-defined]
    command.__annotations__ = {**{k: v for k, v in fn.__annotations__.items() if k != "quick"},
                               **{p.name: p.annotation for p in added}}
    return command


def apply_quick_flags(raw: dict[str, Any], quick: dict[str, Any]) -> dict[str, Any]:
    """The scenario mapping with the flags' fields set (a file's other fields kept)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    for name, value in quick.items():
        path = QUICK_FLAGS[name][2]
        node = out
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = value
    return out
