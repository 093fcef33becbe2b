"""One module per ``rdface`` command: ``NAME``, ``HELP``, ``CONFIG`` and ``run(config)``.

A command page is thin: its flags come from its stage's config, and ``run``
calls the stage (imported inside ``run`` when it pulls heavy libraries such
as torch, so that every command starts fast).
"""
