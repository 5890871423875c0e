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


# Who may import whom. ``rag`` is the core and imports none of the others, lazily or not;
# ``ui`` is the outermost layer (the CLI wires ``ingest`` and ``eval`` in).
ALLOWED = {
    "rag": set(),
    "ingest": {"rag"},
    "eval": {"rag"},
    "ui": {"rag", "ingest", "eval"},
}


def _imports(path: Path) -> set[str]:
    """Top-level package names a module imports anywhere in it (lazy imports included)."""
    tree = ast.parse(path.read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_arrows_point_one_way():
    for package, allowed in ALLOWED.items():
        banned = set(PACKAGES) - allowed - {package}
        for path in (ROOT / package).rglob("*.py"):
            wrong = _imports(path) & banned
            assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"
    for path in (ROOT / "rag").rglob("*.py"):  # user interfaces and document renderers stay out of the core
        outer = _imports(path) & {"gradio", "fastapi", "uvicorn", "docx", "pptx", "openpyxl", "jinja2"}
        assert not outer, f"{path.relative_to(ROOT)} imports {sorted(outer)}"
    for package in ("ingest", "eval"):
        for path in (ROOT / package).rglob("*.py"):
            assert "gradio" not in _imports(path), path


def test_modules_have_docstrings_and_stay_small():
    for name in _modules():
        path = ROOT / Path(*name.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        tree = ast.parse(path.read_text("utf-8"))
        assert ast.get_docstring(tree), f"{path} has no module docstring"
        assert len(path.read_text("utf-8").splitlines()) <= 320, f"{path} is over ~300 lines"
