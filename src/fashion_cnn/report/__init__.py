"""The report: every notebook run headless (papermill, the project kernel), then one combined,
self-contained `report.html` and its `report.pdf` (Chromium headless, A4).

    python -m fashion_cnn report --profile full|quick --study R0 [--all-studies] [--device auto]

Notebooks are found by the glob `notebooks/[0-9][0-9]_*.ipynb` (sorted); each gets `profile` and
`device` injected, and the setup's other parameters (`setup.ReportSetup`) where its parameters cell declares them. Everything is written to a
staging folder first and moved into place only when every notebook ran and both files were
rendered, so a failing notebook leaves the previous report as it was and the command exits
non-zero naming the notebook and the cell. Training happens only through the run store, so a
second report with nothing changed re-executes the notebooks from stored runs and re-renders.

The package: `notebooks` finds and runs the notebooks, `render` turns them into HTML and PDF, `build`
is the whole pipeline (its command line is `cli.report`); the names other modules and the tests use are
re-exported here (`report.build`, `report.chromium`, `report.NotebookFailed`, ...).
"""

from .build import Report, build, check_reproduce, replace_dir
from .notebooks import (
    KERNEL,
    NOTEBOOK_GLOB,
    NotebookFailed,
    NotebookResult,
    NotebooksMissing,
    discover,
    execute,
    parameters_for,
)
from .render import (
    CHROMIUM,
    HIDDEN_TAGS,
    LIBRARIES,
    REPORT_CSS,
    RenderFailed,
    appendix_html,
    benchmark_html,
    chromium,
    pdf_pages,
    render_html,
    render_pdf,
)

__all__ = [
    "CHROMIUM",
    "HIDDEN_TAGS",
    "KERNEL",
    "LIBRARIES",
    "NOTEBOOK_GLOB",
    "REPORT_CSS",
    "NotebookFailed",
    "NotebookResult",
    "NotebooksMissing",
    "RenderFailed",
    "Report",
    "appendix_html",
    "benchmark_html",
    "build",
    "check_reproduce",
    "chromium",
    "discover",
    "execute",
    "parameters_for",
    "pdf_pages",
    "render_html",
    "render_pdf",
    "replace_dir",
]
