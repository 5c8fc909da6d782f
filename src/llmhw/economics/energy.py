"""Energy per token and power per chip from the engine's accounting. Pure functions over numpy
arrays (or floats); every argument in SI units (J, W, s, bytes, FLOP).

One decode step of ``r`` requests and one prompt's prefill each cost, per chip,

    E_step = sum_d FLOPs_d x e_d                                  arithmetic, by datatype
           + 8 x sum_i (R_i x e_read,i + W_i x e_write,i)         memory tiers (bits read and written)
           + 8 x B_nm x e_nm                                      bytes read inside the memory by PIM/PNM
           + 8 x B_wire x e_link                                  bytes this chip sent on its links

(``R_i`` excludes the bytes near-memory compute read in place of the host: those cost ``e_nm``.)
In steady state a replica finishes its ``r`` requests every ``e2e`` seconds: ``osl`` decode steps and
``r`` prefills, so a chip's dynamic power is

    P_dyn = (osl x E_decode + r x E_prefill) / e2e

and its power while serving ``P = P_static + P_dyn``. Energy per output token of the whole system
is its power over its output rate: ``n_chips x (P + P_host) / output_tok_s``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

Array = Any  # numpy array or float

BITS = 8.0


def flop_energy(flops: Mapping[str, Array], j_per_flop: Mapping[str, float]) -> Array:
    """E = sum over datatypes d of FLOPs_d x e_d (J). ``j_per_flop`` must cover every key."""
    total: Array = 0.0
    for d, f in flops.items():
        total = total + np.asarray(f, dtype=float) * j_per_flop[d]
    return total


def memory_energy(read_bytes: Sequence[Array], write_bytes: Sequence[Array],
                  read_j_per_bit: Sequence[float], write_j_per_bit: Sequence[float]) -> Array:
    """E = 8 x sum over tiers i of (R_i x e_read,i + W_i x e_write,i) (J)."""
    total: Array = 0.0
    for r, w, er, ew in zip(read_bytes, write_bytes, read_j_per_bit, write_j_per_bit, strict=True):
        total = total + BITS * (np.asarray(r, dtype=float) * er + np.asarray(w, dtype=float) * ew)
    return total


def wire_energy(wire_bytes: Array, link_j_per_bit: float) -> Array:
    """E = 8 x B_wire x e_link (J): the bytes a chip sends, at its links' energy per bit."""
    return BITS * np.asarray(wire_bytes, dtype=float) * link_j_per_bit


def step_energy(flops: Mapping[str, Array], j_per_flop: Mapping[str, float], read_bytes: Sequence[Array],
                write_bytes: Sequence[Array], read_j_per_bit: Sequence[float], write_j_per_bit: Sequence[float],
                near_memory_bytes: Array = 0.0, near_memory_tier: int | None = None,
                near_memory_j_per_bit: float = 0.0, wire_bytes: Array = 0.0, link_j_per_bit: float = 0.0
                ) -> dict[str, Array]:
    """Dynamic energy of one step on one chip, by part: ``compute``, ``memory``, ``near_memory``,
    ``network`` (J). Bytes that near-memory compute read are taken off its tier's host reads
    (the engine counts them in both) and priced at ``near_memory_j_per_bit``."""
    reads = [np.asarray(r, dtype=float) for r in read_bytes]
    nm = np.asarray(near_memory_bytes, dtype=float)
    if near_memory_tier is not None:
        reads[near_memory_tier] = np.maximum(reads[near_memory_tier] - nm, 0.0)
    return {
        "compute": flop_energy(flops, j_per_flop),
        "memory": memory_energy(reads, write_bytes, read_j_per_bit, write_j_per_bit),
        "near_memory": BITS * nm * near_memory_j_per_bit,
        "network": wire_energy(wire_bytes, link_j_per_bit),
    }


def dynamic_power(decode_step_j: Array, prefill_j: Array, output_tokens: Array, requests: Array,
                  e2e_s: Array) -> tuple[Array, Array]:
    """(P_decode, P_prefill) per chip in W: a replica runs ``output_tokens`` decode steps and
    ``requests`` prefills every ``e2e_s``: P_decode = osl x E_decode / e2e, P_prefill = r x E_prefill / e2e."""
    e2e = np.maximum(np.asarray(e2e_s, dtype=float), 1e-30)
    return (np.asarray(output_tokens, dtype=float) * decode_step_j / e2e,
            np.asarray(requests, dtype=float) * prefill_j / e2e)


def cap_power(power_w: Array, cap_w: float | None) -> tuple[Array, Array]:
    """(min(P, cap), P > cap): a chip cannot draw more than its TDP; the flag says the model
    asked it to (the engine's throughput is then optimistic by about P / cap)."""
    p = np.asarray(power_w, dtype=float)
    if cap_w is None:
        return p, np.zeros(p.shape, dtype=bool)
    return np.minimum(p, cap_w), p > cap_w


def per_token(power_w: Array, tokens_per_s: Array) -> Array:
    """J per token = W / (tokens/s)."""
    return np.asarray(power_w, dtype=float) / np.maximum(np.asarray(tokens_per_s, dtype=float), 1e-30)


def average_power(busy_w: Array, idle_w: Array, utilization: float) -> Array:
    """Mean power over the service life: u x P_busy + (1 - u) x P_idle."""
    return utilization * np.asarray(busy_w, dtype=float) + (1.0 - utilization) * np.asarray(idle_w, dtype=float)
