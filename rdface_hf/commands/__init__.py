"""One module per ``rdface`` command: ``register(subparsers)`` adds it."""
