"""The house rules of the layout, checked on the source (README, "Layout").

- imports go one way: commands -> stages -> dataset core -> infrastructure;
  a stage never imports another stage (only the published contracts:
  ``rdface_hf.dataset`` and ``rdface_hf.metrics``);
- an import inside a function is allowed only with a comment saying why
  (a heavy optional dependency kept out of a command's start-up);
- commands are registered by static import and each has NAME, HELP, CONFIG, run;
- every config field has help text; no module over 400 lines, no function over 60;
- every package is listed in ``pyproject.toml``.
"""

from __future__ import annotations

import ast
import dataclasses
import tomllib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rdface_hf"
STAGES = ("sim", "classify", "generate", "filter", "audit", "reports", "bench")
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def layer(module: str) -> str:
    """``rdface_hf.dataset.builder`` -> ``dataset``; infrastructure, stages, commands, metrics."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1].startswith("_"):
        return "infra"
    if parts[1] in ("commands", "cli"):
        return "commands"
    if parts[1] in ("dataset", "dataset_card", "model_cards"):
        return "dataset"
    if parts[1] == "metrics":
        return "metrics"
    return parts[1]  # a stage


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported(path: Path) -> list[tuple[int, str, bool]]:
    """(line, absolute module, inside a function) of every rdface_hf import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    in_function = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function |= {id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))}
    out = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
        for name in names:
            if name == "rdface_hf" or name.startswith("rdface_hf."):
                out.append((node.lineno, name, id(node) in in_function))
    return out


ALLOWED = {
    "infra": {"infra"},
    "dataset": {"infra", "dataset"},
    "metrics": {"infra", "dataset", "metrics"},
    "commands": {"infra", "dataset", "metrics", "commands", *STAGES},
}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_one_way(path):
    mine = layer(module_name(path))
    allowed = ALLOWED.get(mine, {"infra", "dataset", "metrics", mine})
    for line, name, _ in imported(path):
        theirs = layer(name)
        if path.name == "__init__.py" and module_name(path) == "rdface_hf" and theirs == "dataset":
            continue  # the package's lazy re-export of RDFaceDataset / load_rdface
        assert theirs in allowed, f"{path.relative_to(PACKAGE)}:{line} ({mine}) imports {name} ({theirs})"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_inside_functions_say_why(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                # a comment on the import, on the group of imports it belongs to, or in the 3 lines above
                start = node.lineno - 1
                while start > 0 and lines[start - 1].strip().startswith(("import ", "from ")):
                    start -= 1
                window = lines[max(0, start - 3) : node.end_lineno]
                assert any("#" in w for w in window), (
                    f"{path.relative_to(PACKAGE)}:{node.lineno}: an import inside a function needs a comment "
                    "saying why it is not at the top (e.g. '# torch: kept out of the CLI's start-up')"
                )


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path):
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_MODULE_LINES, f"{path.relative_to(PACKAGE)} is over {MAX_MODULE_LINES} lines"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, (
                f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}: {length} lines"
            )


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {module_name(p.parent / "__init__.py") for p in modules() if p.name == "__init__.py"}
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"
    folders = {module_name(p.parent / "__init__.py") for p in modules()}
    assert folders <= found, f"folders with modules but no __init__.py: {sorted(folders - found)}"


def test_commands_are_static_pages_with_a_config():
    from rdface_hf import cli
    from rdface_hf._config import StageConfig

    pages = {p.stem for p in (PACKAGE / "commands").glob("*.py") if not p.name.startswith("_")}
    registered = {path.rsplit(".", 1)[1] for path, _ in cli.COMMANDS.values()}
    assert pages == registered, f"command pages not registered in cli.COMMANDS: {sorted(pages - registered)}"
    for name, (path, help) in cli.COMMANDS.items():
        module = cli.command(name)
        assert path == f"rdface_hf.commands.{module.__name__.rsplit('.', 1)[1]}"
        assert name == module.NAME and help == module.HELP and callable(module.run), name
        assert issubclass(module.CONFIG, StageConfig), name
        for field in dataclasses.fields(module.CONFIG):
            assert field.metadata.get("help"), f"{name}: field {field.name} has no help text"
