"""The house rules, checked on the code as installed: one package, no import cycles, allocators
framework-free, no product import of tests/scripts/benchmarks, setup.cfg's package list complete.

The import graph is built from the source files under their *installed* names (setup.cfg's
``package_dir`` maps the repository's top-level folders into ``bt_lstm_mvo``), with module-level
and function-level imports alike; importing ``a.b.c`` counts as importing ``a`` and ``a.b`` too
(their ``__init__`` runs first).
"""

from __future__ import annotations

import ast
import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "bt_lstm_mvo"
#: names that must never be imported by product code: the repo's own non-product folders and
#: the generic top-level names the first version installed
FOREIGN = {"tests", "scripts", "benchmarks", "runner", "lmbt", "common", "allocators", "strategies", "feeds",
           "analyzers", "experiment"}


def _setup_options() -> tuple[dict[str, str], list[str]]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    mapping = {}
    for line in cfg["options"]["package_dir"].strip().splitlines():
        name, _, folder = line.partition("=")
        mapping[name.strip()] = folder.strip()
    packages = [p.strip() for p in cfg["options"]["packages"].strip().splitlines()]
    return mapping, packages


def _modules() -> dict[str, Path]:
    """Installed module name -> source file, for every .py file of the package."""
    mapping, _ = _setup_options()
    mods: dict[str, Path] = {}
    for pkg, folder in mapping.items():
        base = ROOT / folder
        for path in base.rglob("*.py"):
            rel = path.relative_to(base).with_suffix("").parts
            if "__pycache__" in rel:
                continue
            inner = [p for p in rel if p != "__init__"]
            # a subfolder mapped elsewhere (bt_lstm_mvo.allocators) is not part of the root's tree
            name = ".".join([pkg, *inner])
            owner = max((p for p in mapping if name == p or name.startswith(p + ".")), key=len)
            if owner == pkg:
                mods[name] = path
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> tuple[set[str], set[str]]:
    """(package modules imported, top-level names of everything else imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    own, other = set(), set()

    def resolve(target: str) -> None:
        parts = target.split(".")
        for i in range(len(parts), 0, -1):
            cand = ".".join(parts[:i])
            if cand in mods:
                for j in range(1, i + 1):
                    parent = ".".join(parts[:j])
                    if parent in mods and parent != name and not name.startswith(parent + "."):
                        own.add(parent)
                return
        other.add(parts[0])

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                resolve(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for alias in node.names:
                full = f"{prefix}.{alias.name}"
                resolve(full if full in mods else prefix)
    return own, other


def _graph():
    mods = _modules()
    graph, third = {}, {}
    for name, path in mods.items():
        graph[name], third[name] = _imports(name, path, mods)
    return mods, graph, third


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def _reachable(graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def test_graph_sees_the_whole_package():
    mods, graph, _ = _graph()
    assert len(mods) > 60
    assert f"{PACKAGE}.experiment.run" in graph[f"{PACKAGE}.experiment.api"]
    assert f"{PACKAGE}.experiment.api" in graph[PACKAGE]  # bt_lstm_mvo.run, a function-level import
    assert f"{PACKAGE}.errors" in graph[f"{PACKAGE}.allocators.base"]


def test_no_import_cycles():
    _, graph, _ = _graph()
    assert _cycles(graph) == []


def test_cycle_detection_works():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_allocators_are_framework_free():
    mods, graph, third = _graph()
    for name in [m for m in mods if m.startswith(f"{PACKAGE}.allocators")]:
        reach = _reachable(graph, name) | {name}
        forbidden = sorted(m for m in reach if m.startswith((f"{PACKAGE}.strategies", f"{PACKAGE}.feeds",
                                                              f"{PACKAGE}.analyzers", f"{PACKAGE}.experiment")))
        assert forbidden == [], f"{name} reaches {forbidden}"
        assert not any("backtrader" in third[m] for m in reach), f"{name} reaches backtrader"


def test_the_array_engine_shares_no_code_with_the_backtrader_path():
    """engine/ checks the strategies, so it may reach allocators and the shared vocabulary, never
    strategies/, feeds/ (Backtrader feeds), analyzers/ or experiment/, nor Backtrader itself."""
    mods, graph, third = _graph()
    engine = [m for m in mods if m.startswith(f"{PACKAGE}.engine")]
    assert len(engine) >= 4
    for name in engine:
        reach = _reachable(graph, name) | {name}
        forbidden = sorted(m for m in reach if m.startswith((f"{PACKAGE}.strategies", f"{PACKAGE}.feeds",
                                                              f"{PACKAGE}.analyzers", f"{PACKAGE}.experiment")))
        assert forbidden == [], f"{name} reaches {forbidden}"
        assert not any("backtrader" in third[m] for m in reach), f"{name} reaches backtrader"


def test_allocators_import_without_backtrader():
    code = ("import sys, bt_lstm_mvo.allocators, bt_lstm_mvo.allocators.mvo, bt_lstm_mvo.allocators.lstm; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('backtrader', 'matplotlib')); "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_product_code_imports_no_foreign_top_level_names():
    mods, _, third = _graph()
    bad = {m: sorted(third[m] & FOREIGN) for m in mods if third[m] & FOREIGN}
    assert bad == {}


def test_setup_cfg_lists_every_package():
    mapping, packages = _setup_options()
    found = set()
    for pkg, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join([pkg, *rel]))
    assert sorted(found) == sorted(packages)
