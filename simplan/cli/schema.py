"""`simplan schema`: the scenario and plan reference, generated from the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simplan.cli.app import app, out
from simplan.reference import reference


@app.command()
def schema(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the Markdown here instead of printing it.")
    ] = None,
) -> None:
    """Print every scenario and plan key with its type and default, and an example of each plan component."""
    text = reference()
    if out_file is None:
        print(text)
        return
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(f".{out_file.name}.tmp")
    tmp.write_text(text + "\n")
    tmp.replace(out_file)
    out.print(f"reference written to {out_file}")
