"""The package keeps the shape the team's rules ask for: no function above cyclomatic
complexity 25 (radon's count, stricter than ruff's C901 on some constructs) and no module
over 500 lines."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

PACKAGE = Path(__file__).resolve().parent.parent / "extractor"
MAX_COMPLEXITY = 25
MAX_MODULE_LINES = 500


def _functions(blocks: Iterable[Function | Class]) -> Iterable[Function]:
    """Functions, methods and their closures (radon's blocks already list methods beside
    their class; a class's own figure is not a function's)."""
    for block in blocks:
        if isinstance(block, Function):
            yield block
            yield from _functions(block.closures)


def _modules() -> list[Path]:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert modules, f"no modules found under {PACKAGE}"
    return modules


def complexity_offenders(source: str, *, limit: int = MAX_COMPLEXITY) -> list[tuple[str, int, int]]:
    """(name, line, complexity) of each function or method in `source` above `limit`."""
    return [
        (f.fullname, f.lineno, f.complexity) for f in _functions(cc_visit(source)) if f.complexity > limit
    ]


def test_the_complexity_check_sees_nested_functions_and_methods() -> None:
    def branches(indent: str) -> str:
        return "\n".join(f"{indent}if x == {i}:\n{indent}    return {i}" for i in range(30))

    source = (
        f"class A:\n    def busy(self, x):\n{branches(' ' * 8)}\n        return -1\n\n\n"
        f"def outer(y):\n    def inner(x):\n{branches(' ' * 8)}\n        return -1\n    return inner(y)\n\n\n"
        "def calm(x):\n    return x\n"
    )
    assert sorted(complexity_offenders(source)) == [("A.busy", 2, 31), ("inner", 67, 31)]


def test_no_function_above_complexity_limit() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line} {name} ({complexity})"
        for path in _modules()
        for name, line, complexity in complexity_offenders(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"functions above cyclomatic complexity {MAX_COMPLEXITY}: " + "; ".join(offenders)


def test_no_module_above_line_limit() -> None:
    offenders = []
    for path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{path.relative_to(PACKAGE.parent)} ({lines} lines)")
    assert not offenders, f"modules above {MAX_MODULE_LINES} lines: " + "; ".join(offenders)
