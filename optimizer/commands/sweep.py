"""CLI: `optimizer sweep` (being built; see the issue that owns it)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Register the `sweep` command(s) on the app."""
