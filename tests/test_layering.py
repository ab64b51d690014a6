"""The import rules of docs/architecture: data flows one way, only entry points read the env."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("ingest", "assistant", "eval", "webapp")
ENTRY_POINTS = {"app.py", "ingest/__main__.py", "assistant/__main__.py", "eval/__main__.py"}

# What each layer may import from the project's own packages.
ALLOWED = {
    "ingest": {"ingest"},
    "assistant": {"assistant", "ingest.schema", "ingest.embed", "ingest.settings", "ingest.errors"},
    "eval": {"eval", "assistant", "ingest"},
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
    return "app" if rel.name == "app.py" and len(rel.parts) == 1 else rel.parts[0]


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_imports_follow_the_data_flow(path: Path) -> None:
    layer = layer_of(path)
    allowed = ALLOWED[layer]
    for name in project_imports(ast.parse(path.read_text(encoding="utf-8"))):
        assert any(name == a or name.startswith(a + ".") for a in allowed), (
            f"{path.relative_to(REPO)} imports {name}; {layer} may import only {sorted(allowed)}"
        )


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
