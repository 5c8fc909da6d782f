"""The pipeline runs one way: a package imports only from the packages before it.

Every import counts, including those inside functions (they are cycles all the same). The order
is the one docs/architecture.md explains; the root package ``llmhw`` is the public facade and
ranks with ``api``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import llmhw

SRC = Path(llmhw.__file__).resolve().parent

# Each stage may import from itself and from any stage before it, never from one after it.
PIPELINE = ("core", "workload", "hardware", "scenario", "accounting", "cost", "serving", "economics",
            "explore", "api", "validation", "studies", "report", "web", "cli", "__main__")

# What the studies may use: the public API and the data types and catalogs they ask about.
STUDY_IMPORTS = ("llmhw", "llmhw.api", "llmhw.core", "llmhw.workload", "llmhw.hardware", "llmhw.scenario",
                 "llmhw.studies")


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """(module imported, line) for every llmhw import in the file, at any depth."""
    mod = _module(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            out += [(target, node.lineno)] + [(n, node.lineno) for n in names if _is_module(n)]
        elif isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
    return [(t, line) for t, line in out if t == "llmhw" or t.startswith("llmhw.")]


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (SRC / rel).with_suffix(".py").is_file() or (SRC / rel / "__init__.py").is_file()


def _top(name: str) -> str:
    """The stage a top-level module belongs to: the command line's helper modules (cli_*.py) are cli's."""
    return "cli" if name.startswith("cli_") else name


def _stage(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return PIPELINE.index("api")
    return PIPELINE.index(_top(parts[1]))


def _graph() -> dict[str, list[tuple[str, int]]]:
    return {_module(p): _imports(p) for p in sorted(SRC.rglob("*.py"))}


def test_every_package_has_a_stage():
    tops = {p.name if p.is_dir() else p.stem for p in SRC.iterdir()
            if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    tops = {_top(t) for t in tops}
    assert tops <= set(PIPELINE), f"packages without a place in the pipeline: {sorted(tops - set(PIPELINE))}"


def test_only_the_cli_imports_its_helpers():
    # cli_*.py split the command line by concern; cli stays the last stage, so nothing else
    # (not even __main__, which goes through cli) reaches into them.
    bad = [f"{mod}:{line} imports {target}" for mod, imports in _graph().items() for target, line in imports
           if target.startswith("llmhw.cli_") and mod != "llmhw.cli" and not mod.startswith("llmhw.cli_")]
    assert not bad, "\n".join(bad)


def test_no_import_against_the_pipeline():
    bad = []
    for mod, imports in _graph().items():
        for target, line in imports:
            if _stage(target) > _stage(mod):
                bad.append(f"{mod}:{line} imports {target}")
    assert not bad, "imports against the pipeline's direction:\n" + "\n".join(bad)


def test_no_import_cycle():
    graph = {m: {t for t, _ in imps if t != m} for m, imps in _graph().items()}
    # A package's __init__ re-exporting its own modules is not a cycle of the modules it names.
    for m in graph:
        graph[m] = {t for t in graph[m] if not m.startswith(t + ".") or t in ("llmhw",)}
    graph["llmhw"] = set()   # the facade: nothing inside the package may rely on it to import
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph.get(m, ())):
            if t not in graph:
                continue
            if state.get(t) == 1:
                cycles.append(" -> ".join([*stack[stack.index(t):], t]))
            elif t not in state:
                visit(t, [*stack, t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


# What a study may take from its own package: the result types, the plot style, the shared
# scenario factories, and its own private parts (studies/_NAME_*.py for study NAME); never another
# study (a study's numbers would change with the other's edits).
STUDY_HELPERS = ("llmhw.studies.base", "llmhw.studies.style", "llmhw.studies.scenarios")


def _study_of(module: str) -> str:
    """The study a module of llmhw.studies belongs to: NAME for NAME and for _NAME_part."""
    name = module.rpartition(".")[2]
    return name[1:].split("_")[0] if name.startswith("_") else name


def _allowed_for_a_study(target: str, importer: str = "llmhw.studies.none") -> bool:
    if target == "llmhw.studies" or target.startswith("llmhw.studies."):
        own = target.rpartition(".")[2].startswith("_") and _study_of(target) == _study_of(importer)
        return (target == "llmhw.studies" or own
                or any(target == h or target.startswith(h + ".") for h in STUDY_HELPERS))
    return any(target == ok or (ok != "llmhw" and target.startswith(ok + ".")) for ok in STUDY_IMPORTS)


def test_studies_use_the_public_api():
    bad = []
    for mod, imports in _graph().items():
        if not mod.startswith("llmhw.studies"):
            continue
        for target, line in imports:
            if not _allowed_for_a_study(target, mod):
                bad.append(f"{mod}:{line} imports {target}")
    assert not bad, "studies reaching past the public API or into another study:\n" + "\n".join(bad)


def test_the_study_rule_rejects_another_study_and_the_stages():
    # The rule itself: the helpers pass; another study, or a stage behind the API, does not.
    assert _allowed_for_a_study("llmhw.studies.scenarios")
    assert _allowed_for_a_study("llmhw.api")
    assert not _allowed_for_a_study("llmhw.studies.hbf")
    assert _allowed_for_a_study("llmhw.studies._trends_runs", "llmhw.studies.trends")
    assert _allowed_for_a_study("llmhw.studies._trends_runs", "llmhw.studies._trends_figures")
    assert not _allowed_for_a_study("llmhw.studies._trends_runs", "llmhw.studies.hbf")
    assert not _allowed_for_a_study("llmhw.serving.closed_loop")
