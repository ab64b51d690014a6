"""The import rules of docs/architecture: data flows one way, only entry points read the env."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("ingest", "assistant", "eval", "webapp")
ENTRY_POINTS = {"app.py", "ingest/__main__.py", "assistant/__main__.py", "eval/__main__.py"}

# The bench (eval/bench/) is its own room: only the CLI starts it; the rest of eval does not
# lean on it, and it takes nothing from the rest of eval.
NEVER = {"eval": {"eval.bench"}}
NEVER_EXCEPT = {"eval/__main__.py"}

# What each layer may import from the project's own packages.
ALLOWED = {
    "ingest": {"ingest"},
    "assistant": {"assistant", "ingest.schema", "ingest.types", "ingest.embed", "ingest.settings"}
    | {"ingest.errors"},
    "eval": {"eval", "assistant", "ingest"},
    "eval.bench": {"eval.bench", "assistant", "ingest"},
    "webapp": {"webapp", "assistant", "ingest.run", "ingest.settings", "ingest.errors"},
    "app": {"webapp", "assistant", "ingest.run", "ingest.settings", "ingest.errors"},
}


def sources() -> list[Path]:
    files = [REPO / "app.py"]
    for package in PACKAGES:
        files += sorted((REPO / package).rglob("*.py")) if (REPO / package).exists() else []
    return files


def project_imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if n.split(".")[0] in {*PACKAGES, "app", "tests"}]


def layer_of(path: Path) -> str:
    rel = path.relative_to(REPO)
    if rel.name == "app.py" and len(rel.parts) == 1:
        return "app"
    if rel.parts[:2] == ("eval", "bench"):
        return "eval.bench"
    return rel.parts[0]


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_imports_follow_the_data_flow(path: Path) -> None:
    layer = layer_of(path)
    allowed = ALLOWED[layer]
    never = set() if str(path.relative_to(REPO)) in NEVER_EXCEPT else NEVER.get(layer, set())
    for name in project_imports(ast.parse(path.read_text(encoding="utf-8"))):
        assert any(_within(name, a) for a in allowed), (
            f"{path.relative_to(REPO)} imports {name}; {layer} may import only {sorted(allowed)}"
        )
        assert not any(_within(name, n) for n in never), (
            f"{path.relative_to(REPO)} imports {name}; {layer} may not import {sorted(never)}"
        )


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_bench_is_covered() -> None:
    bench = [p for p in sources() if layer_of(p) == "eval.bench"]
    assert len(bench) >= 5 and all(p.parent == REPO / "eval" / "bench" for p in bench)


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_private_names_cross_packages(path: Path) -> None:
    """``from ingest.embed import _load`` in eval: give ingest a public function instead."""
    own = layer_of(path).split(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            package = node.module.split(".")[0]
            if package in PACKAGES and package != own:
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.relative_to(REPO)} imports {private} from {node.module}"


def reads_environment(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            text = ast.unparse(node.func)
            if text in {"os.getenv", "os.environ.get", "getenv"}:
                lines.append(node.lineno)
            if text in {"Settings", "StoreSettings"} and not node.args and not node.keywords:
                lines.append(node.lineno)  # pydantic-settings reads the environment here
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and ast.unparse(node.value) == "os.environ"
        ):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_only_entry_points_read_the_environment(path: Path) -> None:
    rel = str(path.relative_to(REPO))
    if rel in ENTRY_POINTS:
        return
    lines = reads_environment(ast.parse(path.read_text(encoding="utf-8")))
    assert not lines, f"{rel} reads the environment at line(s) {lines}; hand it a settings object"
