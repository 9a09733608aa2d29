"""Command line: thin typer commands that parse options and call library functions."""

from __future__ import annotations

from extractor.cli.app import app, main

__all__ = ["app", "main"]
