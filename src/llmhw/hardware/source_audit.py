"""Where the catalog's numbers come from, by kind of source: the audit docs/catalog.md prints.

A hardware number is only as good as its source. Primary sources are the maker's own datasheets,
documentation and papers, standards (JEDEC), peer-reviewed or preprint papers, and benchmark
results published by their submitters (MLPerf); anything else (blogs, spec aggregators, news
reports) is secondary, a reading of a primary source that may have drifted. This module walks
every quantity of the catalog files, classifies each source by its address, and lists the
numbers that rest on secondary sources alone, and those that are estimated, so that replacing
them is a visible to-do rather than a hidden doubt.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from llmhw.core.provenance import is_quantity
from llmhw.hardware.catalog import _FILES, _raw, sources

# Hosts whose pages are primary sources: makers of chips, memory and systems (their datasheets,
# documentation, developer blogs), standards bodies, paper archives and publishers, MLCommons.
PRIMARY_HOSTS: tuple[str, ...] = (
    "nvidia.com", "amd.com", "intel.com", "google.com", "cloud.google.com", "apple.com", "qualcomm.com",
    "samsung.com", "semiconductor.samsung.com", "skhynix.com", "micron.com", "arm.com", "amazon.com",
    "aws.amazon.com", "cerebras.ai", "cerebras.net", "groq.com", "sandisk.com", "kioxia.com", "tsmc.com",
    "jedec.org", "mlcommons.org", "arxiv.org", "ieee.org", "acm.org", "usenix.org", "openreview.net",
    "isscc.org", "hotchips.org", "mediatek.com", "habana.ai", "mlsys.org", "neurips.cc",
    # AWS's own Neuron SDK documentation, hosted on Read the Docs
    "awsdocs-neuron.readthedocs-hosted.com",
)
# Repositories that hold primary material (MLCommons results, vendors' own code and docs).
PRIMARY_REPOS: tuple[str, ...] = ("github.com/mlcommons", "github.com/nvidia", "github.com/rocm",
                                  "github.com/google", "github.com/amd", "github.com/aws-neuron")


def is_primary(url: str) -> bool:
    u = urlparse(url if "://" in url else f"https://{url}")
    host = (u.hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in PRIMARY_HOSTS):
        return True
    path = f"{host}{u.path}".lower()
    return any(path.startswith(r) for r in PRIMARY_REPOS)


@dataclass(frozen=True)
class Number:
    """One sourced number of the catalog: where it sits, its status, its sources' addresses."""

    where: str          # file:path, e.g. chips.yaml:h100-sxm.peak_flops.fp8
    status: str
    urls: tuple[str, ...]

    @property
    def primary(self) -> bool:
        return any(is_primary(u) for u in self.urls)


def numbers() -> list[Number]:
    """Every quantity in the catalog files, with its status and source addresses."""
    out: list[Number] = []
    srcs = sources()

    def walk(node: Any, where: str) -> None:
        if is_quantity(node):
            ids = node.get("source", ())
            ids = [ids] if isinstance(ids, str) else list(ids or ())
            urls = tuple(s if s.startswith(("http://", "https://")) else srcs[s]["url"] for s in ids)
            out.append(Number(where, str(node.get("status", "")), urls))
        elif isinstance(node, dict):
            label = node.get("id")
            for k, v in node.items():
                walk(v, f"{where}.{k}" if where.endswith(".yaml:") is False else f"{where}{label or k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                name = v.get("id") if isinstance(v, dict) else None
                walk(v, f"{where}.{name}" if name else f"{where}[{i}]")

    for f in _FILES:
        if f != "sources":
            walk(_raw()[f], f"{f}.yaml:")
    return out


def markdown() -> str:
    """The audit as docs/catalog.md prints it: counts by kind of source and status, then every
    number that rests on secondary sources alone."""
    nums = numbers()
    sourced = [n for n in nums if n.urls]
    secondary = [n for n in sourced if not n.primary]
    status = Counter(n.status or "(none)" for n in nums)
    lines = [
        f"{len(nums)} sourced quantities in the catalog files: {len(sourced) - len(secondary)} cite a primary "
        f"source (the maker, a standard, a paper, MLPerf), {len(secondary)} only secondary ones (blogs, spec "
        f"aggregators, news), {len(nums) - len(sourced)} none. By status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(status.items(), key=lambda kv: -kv[1])) + ".",
        "",
        "Entries whose numbers rest on secondary sources alone (to replace with a primary source where one "
        "exists), by entry: how many numbers, which, and from where:",
        "",
        "| entry | numbers | fields | sources |",
        "|---|---:|---|---|",
    ]
    by_entry: dict[str, list[Number]] = {}
    for n in secondary:
        file, _, path = n.where.partition(":")
        parts = path.split(".")
        by_entry.setdefault(f"{file}: {parts[1] if len(parts) > 1 else path}", []).append(n)
    for entry, ns in sorted(by_entry.items()):
        fields = sorted({".".join(n.where.partition(":")[2].split(".")[2:]) for n in ns})
        shown = ", ".join(fields[:4]) + (f", ... ({len(fields) - 4} more)" if len(fields) > 4 else "")
        hosts = ", ".join(sorted({(urlparse(u).hostname or u).removeprefix("www.") for n in ns for u in n.urls}))
        lines.append(f"| {entry} | {len(ns)} | {shown} | {hosts} |")
    return "\n".join(lines) + "\n"
