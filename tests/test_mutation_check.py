"""benchmarks/mutation_check.py cannot rot: every mutation's old text is still in the package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module():
    spec = importlib.util.spec_from_file_location("mutation_check", ROOT / "benchmarks" / "mutation_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_mutation_still_applies_and_names_existing_tests():
    check = _module()
    assert check.stale() == [], "update benchmarks/mutation_check.py: these mutations no longer apply"
    assert len(check.MUTATIONS) >= 15 and len({m.name for m in check.MUTATIONS}) == len(check.MUTATIONS)
    for m in check.MUTATIONS:
        assert m.file.startswith("rdface_hf/") and m.old != m.new and m.tests, m.name
        for node in m.tests:
            path, _, name = node.partition("::")
            assert (ROOT / path).is_file(), node
            if name:
                assert f"def {name.split('[')[0]}(" in (ROOT / path).read_text(encoding="utf-8"), node


def test_a_missing_old_text_is_stale_not_passed(tmp_path):
    check = _module()
    m = check.MUTATIONS[0]
    assert check.apply("nothing like it", m) is None
    assert check.apply(m.old + m.old, m) is None, "ambiguous: more than once"
    (tmp_path / "rdface_hf").mkdir()
    assert check.stale(tmp_path) == [x.name for x in check.MUTATIONS]
    (tmp_path / "f.py").write_text("y = 1\n")
    assert check.run_one(tmp_path, check.Mutation("gone", "f.py", "x = 1", "x = 2", ("t",)), 10) == "stale"
