"""CLI: `optimizer diff` (being built; see the issue that owns it)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Register the `diff` command(s) on the app."""
