"""The package's structure: no import circle (imports inside functions count too), no module takes
another module's private names, the runtime package ships no test fixtures, and ``batch`` accepts
every per-run option of ``reconstruct``.

Run alone: ``python -m pytest tests/test_architecture.py -q``; ``python tests/test_architecture.py``
prints the module graph's circles (none) and every import edge."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "hoirecon"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _imports(path: Path, name: str, modules: dict[str, Path]) -> list[tuple[str, list[str], int]]:
    """``[(imported module, names taken, line)]`` of every import in the file, at any depth (inside
    functions and classes too), resolved to modules of the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "hoirecon":
                    out.append((_owner(a.name, modules), [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "hoirecon":
                continue
            names = [a.name for a in node.names]
            # ``from pkg import submodule`` imports the submodule
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
            for s in subs:
                out.append((s, [], node.lineno))
            rest = [n for n in names if f"{target}.{n}" not in modules]
            if rest or not subs:
                out.append((_owner(target, modules), rest, node.lineno))
    return [(m, n, line) for m, n, line in out if m is not None]


def _owner(dotted: str, modules: dict[str, Path]) -> str | None:
    parts = dotted.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def _graph() -> dict[str, dict[str, list[tuple[list[str], int]]]]:
    modules = _modules()
    graph: dict[str, dict[str, list[tuple[list[str], int]]]] = {m: {} for m in modules}
    for name, path in modules.items():
        for target, names, line in _imports(path, name, modules):
            if target != name:
                graph[name].setdefault(target, []).append((names, line))
    return graph


def _parents(module: str) -> set[str]:
    """Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first: a package's __init__
    importing its own sub-modules is the package's face, not a circle."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), edges from a package's
    ``__init__`` to its own sub-modules left out."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def edges(v: str):
        return [w for w in graph[v] if not w.startswith(v + ".")]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges(v):
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

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            strong(v)
    return out


def test_cycle_finder_finds_a_circle():
    g = {"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}}
    assert cycles(g) == [["a", "b", "c"]]
    assert cycles({"p": {"p.x": []}, "p.x": {"p": []}}) == []  # a package's face


def test_import_graph_is_read():
    g = _graph()
    assert "hoirecon.pipeline" in g and "hoirecon.types" in g["hoirecon.pipeline"]
    # an import inside a function is an edge too
    assert any("hoirecon.objects" in t or t.startswith("hoirecon.objects.") for t in g["hoirecon.pipeline"])


def test_no_import_circles():
    found = cycles(_graph())
    assert found == [], f"import circles: {found}"


def test_no_private_names_across_modules():
    bad = []
    for name, targets in _graph().items():
        for target, uses in targets.items():
            for names, line in uses:
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                if private:
                    bad.append(f"{name}:{line} takes {private} from {target}")
    assert bad == [], "\n".join(bad)


def test_runtime_package_ships_no_fixtures():
    assert not (PKG / "bench").exists()
    assert not (PKG / "io.py").exists()  # named like the standard library's io
    for path in PKG.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "benchmarks.support" not in text.replace("``benchmarks.support", ""), path


def _options(command: str) -> set[str]:
    import typer.main

    from hoirecon.cli.main import app

    cmd = typer.main.get_command(app).commands[command]
    return {o for p in cmd.params if p.param_type_name == "option" for o in p.opts}


def test_batch_accepts_every_per_run_option_of_reconstruct():
    per_image = {"--object-box", "--object-mask"}  # a batch's photos give these in their sidecars
    missing = _options("reconstruct") - per_image - _options("batch")
    assert missing == set(), f"batch lacks {sorted(missing)}"
    for flag in ("--contacts-from", "--contacts", "--focal-px", "--person-index", "--object-index", "--config",
                 "--mesh", "--interactvlm-repo"):
        assert flag in _options("batch")


def test_batch_help_lists_them():
    from typer.testing import CliRunner

    from hoirecon.cli.main import app

    res = CliRunner().invoke(app, ["batch", "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    for flag in sorted(_options("reconstruct") - {"--object-box", "--object-mask"}):
        assert flag in res.output, flag


def test_cli_choices_are_the_stage_tables():
    """The CLI's choices (checked before any model loads) name exactly the registered implementations."""
    import typing

    from hoirecon.body import BODY_MODELS
    from hoirecon.cli import options as opt
    from hoirecon.inputs import CHOICES

    assert tuple(BODY_MODELS) == CHOICES["body_model"] == typing.get_args(opt.BodyModelName)
    assert CHOICES["detector"] == typing.get_args(opt.DetectorName)
    assert CHOICES["segmenter"] == typing.get_args(opt.SegmenterName)
    from hoirecon.contact import CONTACT_SOURCES

    assert tuple(CONTACT_SOURCES) == CHOICES["contacts_from"] == typing.get_args(opt.ContactSource)
    from hoirecon.cli.view import FormatName
    from hoirecon.export.formats import FORMATS

    assert FORMATS == typing.get_args(FormatName)


if __name__ == "__main__":  # pragma: no cover
    g = _graph()
    print("circles:", cycles(g) or "none")
    for m, ts in sorted(g.items()):
        for t, uses in sorted(ts.items()):
            print(f"{m} -> {t} (line {uses[0][1]})")
    pytest.main([__file__, "-q"])
