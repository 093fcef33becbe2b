"""``rdface benchmark``: the study runner (plan, cells, results, paired statistics, report.html).

The stages themselves are handed in by the command (:mod:`rdface_hf.commands.benchmark`) as a
:class:`~rdface_hf.bench.plan.Stages` mapping, so that this stage imports no other stage.
"""
