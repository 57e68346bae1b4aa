"""The layout holds: layers import downwards only, no import cycles, no late imports dodging one,
and no tracked file names an absolute path into a checkout (CI runs where the original checkout
exists, so only this check catches a path that works there and nowhere else)."""
from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "models", "services", "state", "app", "ocpp_server", "worker", "demo", "manage", "bench")
# What each top-level part may import from the project (itself included).
ALLOWED = {
    "core": {"core"},
    "models": {"core", "models"},
    "services": {"core", "models", "services"},
    "state": {"core", "models", "services", "state"},
    "app": {"core", "models", "services", "state", "app"},
    "ocpp_server": {"core", "models", "services", "ocpp_server"},
    "worker": {"core", "models", "services", "worker"},
    "demo": {"core", "models", "services", "demo"},
    "manage": {"core", "models", "services", "demo"},
    "bench": set(PACKAGES),
}
# Domains inside services/, lowest first: a domain imports only those before it (and core, models).
DOMAINS = ["access", "charging", "billing", "payments", "customers", "network", "clients", "notifications", "ocpp",
           "grid"]
# Entry points whose per-command imports keep `--help` and start-up fast; they dodge no cycle.
LATE_IMPORTS_ALLOWED = {"manage.py", "worker/__main__.py"}


def tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def module_name(path: str) -> str:
    mod = path.removesuffix(".py").replace("/", ".")
    return mod.removesuffix(".__init__")


def project_imports(path: str) -> list[tuple[str, bool]]:
    """(imported project module, imported inside a function) for every import in the file."""
    tree = ast.parse((ROOT / path).read_text(), path)
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.extend((a.name, nested) for a in child.names if a.name.split(".")[0] in PACKAGES)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                if child.module.split(".")[0] in PACKAGES:
                    for a in child.names:
                        sub = f"{child.module}.{a.name}"
                        found.append((sub if (ROOT / (sub.replace(".", "/") + ".py")).exists()
                                      or (ROOT / sub.replace(".", "/")).is_dir() else child.module, nested))
            visit(child, inner)

    visit(tree, False)
    return found


def code_files() -> list[str]:
    return [f for f in tracked() if f.endswith(".py") and f.split("/")[0].removesuffix(".py") in PACKAGES]


def test_every_layer_imports_only_downwards():
    wrong = []
    for f in code_files():
        top = f.split("/")[0].removesuffix(".py")
        for mod, _ in project_imports(f):
            if mod.split(".")[0] not in ALLOWED[top]:
                wrong.append(f"{f} imports {mod}")
    assert not wrong, "\n".join(wrong)


def test_domains_import_only_lower_domains():
    wrong = []
    for f in code_files():
        parts = f.split("/")
        if parts[0] != "services" or len(parts) < 3:
            continue
        mine = DOMAINS.index(parts[1])
        for mod, _ in project_imports(f):
            bits = mod.split(".")
            if bits[0] == "services" and len(bits) > 1 and bits[1] in DOMAINS and DOMAINS.index(bits[1]) > mine:
                wrong.append(f"{f} imports {mod}")
    assert not wrong, "\n".join(wrong)


def test_services_and_core_never_import_reflex():
    wrong = [f for f in code_files() if f.split("/")[0] in ("core", "models", "services")
             and re.search(r"^\s*(import reflex|from reflex)", (ROOT / f).read_text(), re.M)]
    assert not wrong


def test_no_late_imports_of_project_code():
    wrong = [f"{f}: {mod}" for f in code_files() if f not in LATE_IMPORTS_ALLOWED and not f.startswith("bench/")
             for mod, nested in project_imports(f) if nested]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    files = {module_name(f): f for f in code_files()}
    graph = {m: {i for i, _ in project_imports(f) if i in files and i != m} for m, f in files.items()}
    cycles, state = [], {}

    def dfs(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                dfs(nxt, stack + [nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            dfs(m, [m])
    assert not cycles, "\n".join(cycles)


def test_no_tracked_file_names_an_absolute_path_into_a_checkout():
    pattern = re.compile(r"(/work/|/home/[^/\s]+/|/Users/[^/\s]+/|/root/)[\w./-]*(\.venv|main|voltdesk)\b")
    hits = []
    for f in tracked():
        p = ROOT / f
        if not p.is_file() or p.stat().st_size > 1_000_000 or f == "tests/test_layers.py":
            continue
        try:
            text = p.read_text()
        except UnicodeDecodeError:
            continue
        hits += [f"{f}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1) if pattern.search(line)]
    assert not hits, "\n".join(hits)
