"""The web stack stays in `interflex.proxy` and `interflex.serving` (docs/ARCHITECTURE.md): the rest of
the core library, the monitor above all, imports neither starlette, uvicorn, httpx nor aiohttp."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = {"starlette", "uvicorn", "httpx", "httpcore", "anyio", "h11", "aiohttp", "yarl", "multidict"}


def imported(path: Path) -> set[str]:
    """Top-level names of every package a file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_proxy_imports_the_web_stack() -> None:
    serving = ROOT / "interflex" / "serving.py"
    core = [
        p
        for p in (ROOT / "interflex").rglob("*.py")
        if "proxy" not in p.relative_to(ROOT / "interflex").parts and p != serving
    ]
    assert core and any(p.parts[-2] == "monitor" for p in core)
    assert imported(serving) & WEB == {"uvicorn"}  # a uvicorn server in a thread, nothing else of the web
    assert [f"{p.relative_to(ROOT)}: {sorted(imported(p) & WEB)}" for p in core if imported(p) & WEB] == []
    proxy = set().union(*map(imported, (ROOT / "interflex" / "proxy").glob("*.py")))
    assert {"starlette", "uvicorn", "aiohttp"} <= proxy
