"""DESIGN §7: cx/ reads, and nothing imports cx (the URL map aside). The few things an agent
does from the order page go through services, called from one module, cx/actions.py."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "integration", "exceptions_app", "reconciliation", "sandbox")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_app_imports_cx():
    offenders = [
        str(path.relative_to(ROOT))
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if any(name == "cx" or name.startswith("cx.") for name in imported_modules(path))
    ]
    assert offenders == []


ACTIONS = ROOT / "cx" / "actions.py"
# What the actions call: the exception core's services and the order refresh.
SERVICES = ("exceptions_app.services", "integration.order_refresh")


def _calls_a_service(name: str) -> bool:
    return ".services." in f".{name}." or name.startswith("integration.order_refresh")


def test_cx_imports_no_service_and_no_sandbox_outside_its_actions():
    modules = list((ROOT / "cx").rglob("*.py"))
    assert len(modules) >= 8  # the app is where this test looks
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules
        for name in imported_modules(path)
        if (path != ACTIONS and _calls_a_service(name)) or name.split(".")[0] == "sandbox"
    }
    assert offenders == set()


def test_the_actions_call_services_and_nothing_else_writes():
    names = imported_modules(ACTIONS)
    assert {n for n in names if _calls_a_service(n)} >= {
        "exceptions_app.services",
        "integration.order_refresh",
    }
    writes = {".save(", ".update(", ".create(", ".delete(", "bulk_"}
    source = ACTIONS.read_text()
    assert [w for w in writes if w in source] == []
