"""Progress: a bar on a terminal for every long command, nothing in CI, pipes or --quiet."""

from __future__ import annotations

import importlib
import io

from rich.console import Console

cli_app = importlib.import_module("simplan.cli.app")  # simplan.cli.app names the Typer app


def test_the_bar_moves_and_names_each_step_on_a_terminal(monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(cli_app, "err", Console(file=screen, force_terminal=True, width=100))
    bar = cli_app.progress_bar(quiet=False, what="calibrating")
    with bar as progress:
        progress(0, None, "behaviour: grid points")
        progress(3, 20)
        task = bar.bar.tasks[0]
        assert (task.description, task.completed, task.total) == ("behaviour: grid points", 3, 20)
        progress(20, 20, "fit check")
        assert (task.description, task.completed) == ("fit check", 20)


def test_no_bar_when_quiet_or_not_a_terminal(monkeypatch):
    monkeypatch.setattr(cli_app, "err", Console(file=io.StringIO(), force_terminal=True))
    with cli_app.progress_bar(quiet=True) as progress:
        assert progress is None
    monkeypatch.setattr(cli_app, "err", Console(file=io.StringIO(), force_terminal=False))
    with cli_app.progress_bar(quiet=False) as progress:
        assert progress is None
