"""Every module imports offline without touching the network; imports point one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ingest", "ui", "eval")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            names.append(".".join(parts))
    return names


def test_every_module_imports_without_network():
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise RuntimeError('network at import time')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "import importlib\n"
        f"for name in {_modules()!r}:\n    importlib.import_module(name)\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'chromadb', 'gradio', 'xllamacpp',\n"
        "                     'langchain_openai') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Packages a module imports; with ``top_level_only``, only at module level (lazy ones skipped)."""
    tree = ast.parse(path.read_text("utf-8"))
    found = set()
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_arrows_point_one_way():
    for package in ("ingest", "ui", "eval"):
        others = set(PACKAGES) - {package, "rag"}
        for path in (ROOT / package).rglob("*.py"):
            assert not _imports(path) & others, f"{path} imports {others & _imports(path)}"
    for path in (ROOT / "rag").rglob("*.py"):
        banned = {"ingest", "ui", "eval"}
        imports = _imports(path, top_level_only=True) if path.name == "cli.py" else _imports(path)
        assert not imports & banned, f"{path} imports {imports & banned}"
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] not in ("ui", ".venv", "tests", "bench"):
            assert "gradio" not in _imports(path), path


def test_modules_have_docstrings_and_stay_small():
    for name in _modules():
        path = ROOT / Path(*name.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        tree = ast.parse(path.read_text("utf-8"))
        assert ast.get_docstring(tree), f"{path} has no module docstring"
        assert len(path.read_text("utf-8").splitlines()) <= 320, f"{path} is over ~300 lines"
