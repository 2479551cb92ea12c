"""CLI: `optimizer validate` (being built; see the issue that owns it)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Register the `validate` command(s) on the app."""
