"""Building the report: check the inputs, run every notebook into a staging folder, render the HTML
(and the PDF), and only then move them into the output folder, so a failure leaves the previous report.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .. import config as cfg
from ..setup import ReportSetup
from ..studies.sources import report_names
from .bundle import write_runs
from .document import DATA_DIR
from .notebooks import (
    KERNEL,
    NotebookFailed,
    NotebookResult,
    discover,
    events_file,
    execute,
    parameters_for,
    runs_counted,
)
from .progress import Live, clock
from .render import pdf_pages, render_html, render_pdf

logger = logging.getLogger(__name__)


@dataclass
class Report:
    """What `build` produced: `pdf` is None when no PDF was rendered (`build(pdf=False)`)."""

    html: Path
    pdf: Path | None
    notebooks: list[NotebookResult]
    seconds: float
    device: str
    pages: int | None


def runs_line(trained: int, stored: int) -> str:
    """How many runs a notebook (or the report) trained and how many it read from the store."""
    return f"{trained} runs trained, {stored} read from the run store"


def timings(results: list[NotebookResult]) -> list[str]:
    """The time each notebook took and the runs it trained and read, then the same for all of them."""
    width = max([len(r.name) for r in results] + [12])
    lines = [f"  {r.name:<{width}} {clock(r.seconds):>8}  {runs_line(len(r.trained), r.stored)}" for r in results]
    trained, read = runs_counted(results)
    total = sum(r.seconds for r in results)
    return [*lines, f"  {f'{len(results)} notebooks':<{width}} {clock(total):>8}  {runs_line(trained, read)}"]


def replace_dir(new: Path, target: Path) -> None:
    """Move `new` to `target`, replacing what was there (the old copy is removed only afterwards)."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new.rename(target)
    if old.exists():
        shutil.rmtree(old)


def check_reproduce(reproduce: str | None) -> str | None:
    """`reproduce` as notebook 08's `reports` parameter ("all" → every name); ValueError on an unknown name."""
    if reproduce is None or reproduce.strip() in ("", "auto"):
        return None
    return " ".join(report_names(reproduce.strip()))


def build(
    setup: ReportSetup,
    *,
    notebooks_dir: Path | str | None = None,
    reports_dir: Path | str | None = None,
    out_dir: Path | str | None = None,
    kernel: str = KERNEL,
    pdf: bool = True,
    reproduce: str | None = None,
    stored_only: bool = False,
    echo=print,
    terminal: bool | None = None,
) -> Report:
    """Run every notebook with `setup`'s parameters and render `report.html` and `report.pdf` (unless
    `pdf` is False) into `out_dir` (default: the reports folder).

    `reproduce` names the source reports notebook 08 reproduces ("R0 R4", "all"; None: its default);
    `stored_only` makes it measure only the runs the store holds, training none of the rest.
    `reports_dir` holds the run store and caches (default `config.REPORTS_DIR`). Nothing in `out_dir`
    changes unless everything succeeded. Raises NotebookFailed naming the notebook and cell,
    RenderFailed when Chromium cannot print the PDF. `echo` prints a line as each notebook starts and ends;
    what a notebook trains shows live on a terminal (`terminal`: default, when stderr is one), else in plain
    lines through `echo` (`progress.Live`).
    """
    reproduce = check_reproduce(reproduce)
    reports_dir = Path(reports_dir or cfg.REPORTS_DIR).resolve()
    out_dir = Path(out_dir or reports_dir).resolve()
    notebooks = discover(notebooks_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    logger.debug("building into %s (staging %s), run store %s", out_dir, staging, reports_dir)
    started = time.perf_counter()
    try:
        results = []
        for i, path in enumerate(notebooks, 1):
            params = parameters_for(path, setup.parameters(), reproduce, stored_only)
            step = f"[{i}/{len(notebooks)}] {path.name}"
            echo(f"{step} ...", flush=True)
            try:
                with Live(path.name, events_file(path, staging), echo=echo, terminal=terminal):
                    result = execute(
                        path,
                        staging / "notebooks" / path.name,
                        params,
                        reports_dir=reports_dir,
                        kernel=kernel,
                        scratch=staging,
                    )
            except NotebookFailed as err:
                echo(f"{step} FAILED", flush=True)
                failed = out_dir / "failed" / path.name
                failed.parent.mkdir(exist_ok=True)
                shutil.copy2(staging / "notebooks" / path.name, failed)
                raise NotebookFailed(err.notebook, err.cell, err.ename, err.evalue, err.source, failed) from None
            echo(f"{step}: {clock(result.seconds)}, {runs_line(len(result.trained), result.stored)}", flush=True)
            results.append(result)
        title = "Fashion-MNIST: comparing CNN variants"
        subtitle = (
            f"study {setup.study.name}, profile {setup.profile.name}, device {setup.resolved}, "
            f"rendered {time.strftime('%Y-%m-%d %H:%M')}"
        )
        html_path = render_html(
            results,
            staging / "report.html",
            title=title,
            subtitle=subtitle,
            device=setup.resolved,
            link_prefix=os.path.relpath(reports_dir, out_dir),
            bench_dir=reports_dir / "bench",
        )
        pdf_path = render_pdf(html_path, staging / "report.pdf") if pdf else None
        pages = pdf_pages(pdf_path) if pdf_path else None
        write_runs(results, staging / DATA_DIR)  # for `make bundle`
        replace_dir(staging / "notebooks", out_dir / "notebooks")
        replace_dir(staging / DATA_DIR, out_dir / DATA_DIR)
        os.replace(html_path, out_dir / "report.html")
        if pdf_path:
            os.replace(pdf_path, out_dir / "report.pdf")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    seconds = time.perf_counter() - started
    return Report(
        out_dir / "report.html", out_dir / "report.pdf" if pdf_path else None, results, seconds, setup.resolved, pages
    )
