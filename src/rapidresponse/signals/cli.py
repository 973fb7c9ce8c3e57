"""`rapidresponse detect`: run the detectors over a corpus and measure them (thin commands)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from rapidresponse.cli_support import console
from rapidresponse.signals.nab import corpus_files, run_nab

detect_app = typer.Typer(help="Detection: run detectors, measure them.", no_args_is_help=True)


@detect_app.callback()
def detect() -> None:
    """Detection: run detectors, measure them."""


@detect_app.command("nab")
def nab(
    data_dir: Annotated[Path, typer.Argument(help="NAB-layout corpus: <category>/<file>.csv")],
    results_dir: Annotated[Path, typer.Argument(help="where NAB-format results are written")],
) -> None:
    """Run the `rapidresponse` detector over a NAB corpus; write NAB-format results files."""
    if not data_dir.is_dir():
        console.print(f"[red]no such corpus directory: {data_dir}[/red]")
        raise typer.Exit(code=2)
    total = len(corpus_files(data_dir))
    if total == 0:
        console.print(f"[red]no <category>/<file>.csv files under {data_dir}[/red]")
        raise typer.Exit(code=2)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("scoring", total=total)
        summary = run_nab(data_dir, results_dir, progress=lambda key: progress.advance(task))
    console.print(
        f"{summary['files']} files, {summary['rows']} rows in {summary['seconds']} s; "
        f"results in {summary['results_dir']}"
    )
