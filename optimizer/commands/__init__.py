"""CLI commands, one module per command (or command group).

Every module exposes ``register(app: typer.Typer) -> None``. Commands validate their
options, call the library API and print either readable tables or, with ``--json``,
exactly one JSON document (:func:`optimizer.output.emit_json`).
"""
