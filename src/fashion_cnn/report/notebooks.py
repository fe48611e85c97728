"""Finding the report's notebooks and running each one headless under papermill in the project kernel.

Each notebook gets `profile` and `device` injected, and the other parameters only where its
parameters cell declares them; a failing cell becomes a NotebookFailed naming the notebook and the cell.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config as cfg
from ..errors import Error
from ..train.progress import PROGRESS, Follower
from ..train.store import RUN_LOG

logger = logging.getLogger(__name__)

KERNEL = "fashion-cnn"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"


class NotebooksMissing(Error, FileNotFoundError):
    """No notebook matches `NOTEBOOK_GLOB` in the notebooks folder."""


class NotebookFailed(Error, RuntimeError):
    """A notebook raised: names the notebook, the cell and the error (a project error, still a RuntimeError)."""

    def __init__(
        self, notebook: str, cell: int | None, ename: str, evalue: str, source: str = "", saved: Path | None = None
    ):
        self.notebook, self.cell, self.ename, self.evalue, self.source = notebook, cell, ename, evalue, source
        where = f"cell {cell}" if cell is not None else "an unknown cell"
        first_line = source.strip().splitlines()[0] if source.strip() else ""
        message = f"notebook {notebook} failed in {where}" + (f" ({first_line!r})" if first_line else "")
        message += f": {ename}: {evalue}"
        if saved is not None:
            message += f"; the executed copy with the traceback is {saved}"
        message += "; the previous report was left in place"
        super().__init__(message)


@dataclass
class NotebookResult:
    """One executed notebook: where its copy is, what it was given, how long it took, which runs it used."""

    name: str
    path: Path
    parameters: dict[str, Any]
    seconds: float
    run_keys: list[dict] = field(default_factory=list)  # every run it read, trained now or stored before
    trained: frozenset[str] = frozenset()  # of those, the keys of the runs it trained

    @property
    def stored(self) -> int:
        """How many of the runs it read the store held before."""
        return len({k["key"] for k in self.run_keys} - self.trained)

    @property
    def title(self) -> str:
        import nbformat

        nb = nbformat.read(self.path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
        return self.name


def runs_counted(results: list[NotebookResult]) -> tuple[int, int]:
    """The runs `results` trained and the runs they read from the store, each run once however many read it."""
    trained = set().union(*(r.trained for r in results))
    read = {k["key"] for r in results for k in r.run_keys}
    return len(trained), len(read - trained)


def discover(notebooks_dir: Path | str | None = None) -> list[Path]:
    """The report's notebooks, `[0-9][0-9]_*.ipynb` sorted by name; raises NotebooksMissing when there are none."""
    folder = Path(notebooks_dir or cfg.NOTEBOOKS_DIR)
    found = sorted(folder.glob(NOTEBOOK_GLOB))
    if not found:
        raise NotebooksMissing(f"no notebooks matching {NOTEBOOK_GLOB} in {folder}: check the notebooks folder")
    return found


def parameters_for(
    path: Path, options: dict[str, Any], reproduce: str | None = None, stored_only: bool = False
) -> dict[str, Any]:
    """`profile` and `device` for every notebook, and the report's other options (`ReportSetup.parameters()`)
    where the notebook's parameters cell declares them; so are `reports` (the source reports to
    reproduce, e.g. "R0 R4") and `stored_only`."""
    import papermill

    declared = papermill.inspect_notebook(str(path))
    params = {k: v for k, v in options.items() if k in declared or k in ("profile", "device")}
    if reproduce is not None and "reports" in declared:
        params["reports"] = reproduce
    if stored_only and "stored_only" in declared:
        params["stored_only"] = True
    return params


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for the kernels started inside the block, then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def events_file(path: Path, scratch: Path) -> Path:
    """Where the kernel running notebook `path` publishes its training (`train.progress`)."""
    return scratch / f"{path.stem}.progress.jsonl"


def execute(
    path: Path, out: Path, parameters: dict[str, Any], *, reports_dir: Path, kernel: str = KERNEL, scratch: Path
) -> NotebookResult:
    """Run one notebook under papermill with `parameters`, writing the executed copy to `out`; its kernel
    publishes what it trains to `events_file(path, scratch)`.

    Raises NotebookFailed naming the notebook and the failing cell.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    ipython_dir = scratch / "ipython"
    (ipython_dir / "profile_default").mkdir(parents=True, exist_ok=True)
    # The kernel's own log (e.g. ipykernel's TCP notice) would interleave with the progress lines.
    (ipython_dir / "profile_default" / "ipython_kernel_config.py").write_text('c.IPKernelApp.log_level = "CRITICAL"\n')
    log = scratch / f"{path.stem}.runs.jsonl"
    log.unlink(missing_ok=True)
    events = events_file(path, scratch)
    events.unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    logger.debug("executing %s with %s into %s", path, parameters, out)
    env = {
        "FASHION_CNN_REPORTS": str(reports_dir),
        RUN_LOG: str(log),  # the kernel's default store logs every run a notebook loads
        PROGRESS: str(events),  # and its scheduler what it trains
        "FASHION_CNN_QUIET": "1",
        "IPYTHONDIR": str(ipython_dir),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYTHONWARNINGS": "ignore",
    }
    with _environment(**env):
        try:
            papermill.execute_notebook(
                str(path),
                str(out),
                parameters=parameters,
                kernel_name=kernel,
                progress_bar=False,
                cwd=str(path.parent),
                log_output=False,
            )
        except PapermillExecutionError as err:
            # papermill adds marker cells to the saved copy, so find the failing cell by its error output
            nb = nbformat.read(out, as_version=4)
            source = next(
                (
                    c.source
                    for c in nb.cells
                    if c.cell_type == "code" and any(o.output_type == "error" for o in c.get("outputs", []))
                ),
                "",
            )
            raise NotebookFailed(path.name, err.cell_index, err.ename, err.evalue, source, out) from None
    seconds = time.perf_counter() - started
    keys = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
    unique = list({k["key"]: k for k in keys}.values())
    trained = {e.get("key") for e in Follower(events).poll() if e.get("event") == "run"}
    return NotebookResult(path.name, out, parameters, seconds, unique, frozenset(trained & {k["key"] for k in unique}))
