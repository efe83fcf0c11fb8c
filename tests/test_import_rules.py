"""DESIGN §7: imports run one way. The exception core imports no flow; nothing but the sandbox,
the tests and the benchmarks imports the sandbox. Checked on the source, so a new import fails
the suite the moment it is written."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _offenders(package: str, forbidden: set[str]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imported_packages(path) & forbidden
        if bad:
            found.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("exceptions_app", {"integration", "cx", "reconciliation", "sandbox"}),
        ("integration", {"sandbox", "cx"}),
        ("cx", {"sandbox"}),
        ("reconciliation", {"sandbox", "cx"}),
        ("accounts", {"integration", "exceptions_app", "cx", "reconciliation", "sandbox"}),
        ("config", {"sandbox"}),
    ],
)
def test_imports_run_one_way(package, forbidden):
    assert _offenders(package, forbidden) == []


def test_the_rule_catches_an_import_of_a_flow(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from integration.models import Order\nimport sandbox.divergence\n")
    assert _imported_packages(module) >= {"integration", "sandbox"}
