"""The report: every notebook run headless (papermill, the project kernel), then one combined,
self-contained `report.html` and its `report.pdf` (Chromium headless, A4).

    python -m fashion_cnn.report --profile full|quick --study R0 [--all-studies] [--device auto]

Notebooks are found by the glob `notebooks/[0-9][0-9]_*.ipynb` (sorted); each gets `profile` and
`device` injected, and `study` where its parameters cell declares one. Everything is written to a
staging folder first and moved into place only when every notebook ran and both files were
rendered, so a failing notebook leaves the previous report as it was and the command exits
non-zero naming the notebook and the cell. Training happens only through the run store, so a
second report with nothing changed re-executes the notebooks from stored runs and re-renders.
"""

from __future__ import annotations

import argparse
import html
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import config as cfg
from .store import RUN_LOG, device_name, provenance

KERNEL = "fashion-cnn"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
CHROMIUM = "chromium"
HIDDEN_TAGS = ("injected-parameters", "parameters")  # cells left out of the rendered report
LIBRARIES = (
    "fashion-cnn",
    "torch",
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "statsmodels",
    "kornia",
    "openTSNE",
    "ray",
    "optuna",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
)


class NotebookFailed(RuntimeError):
    """A notebook raised: names the notebook, the cell and the error."""

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
    run_keys: list[dict] = field(default_factory=list)

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


@dataclass
class Report:
    """What `build` produced."""

    html: Path
    pdf: Path
    notebooks: list[NotebookResult]
    seconds: float
    device: str
    pages: int | None


def discover(notebooks_dir: Path | str | None = None) -> list[Path]:
    """The report's notebooks, `[0-9][0-9]_*.ipynb` sorted by name; raises when there are none."""
    folder = Path(notebooks_dir or cfg.NOTEBOOKS_DIR)
    found = sorted(folder.glob(NOTEBOOK_GLOB))
    if not found:
        raise FileNotFoundError(f"no notebooks matching {NOTEBOOK_GLOB} in {folder}: check the notebooks folder")
    return found


def parameters_for(
    path: Path,
    profile: str,
    device: str,
    study: str | None,
    reproduce: str | None = None,
    stored_only: bool = False,
    *,
    seeds: str | None = None,
    margin: float | None = None,
    max_seeds: int | None = None,
) -> dict[str, Any]:
    """`profile` and `device` for every notebook; `study`, `reports` (the source reports to
    reproduce, e.g. "R0 R4"), `stored_only`, `seeds` (a number, "auto" or "default"), `margin`
    (accuracy points) and `max_seeds` where the parameters cell declares them."""
    import papermill

    declared = papermill.inspect_notebook(str(path))
    params: dict[str, Any] = {"profile": profile, "device": device}
    if study is not None and "study" in declared:
        params["study"] = study
    if reproduce is not None and "reports" in declared:
        params["reports"] = reproduce
    if stored_only and "stored_only" in declared:
        params["stored_only"] = True
    for name, value in (("seeds", seeds), ("margin", margin), ("max_seeds", max_seeds)):
        if value is not None and name in declared:
            params[name] = str(value) if name == "seeds" else value
    return params


def check_statistics(profile: str, seeds: str | None, margin: float | None, max_seeds: int | None) -> None:
    """Raises ValueError naming the fix for seeds, margin or max_seeds a notebook would reject."""
    if seeds is not None:
        cfg.resolve_seeds(seeds, cfg.get_profile(profile), "cpu")
    if margin is not None and not 0 < margin < 100:
        raise ValueError(f"margin {margin:g}: give the equivalence margin in accuracy points, above 0 (e.g. 0.5)")
    if max_seeds is not None and max_seeds < 3:
        raise ValueError(f"max_seeds {max_seeds}: give at least 3 (the pilot of seeds=auto trains 3 seeds)")


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


def execute(
    path: Path, out: Path, parameters: dict[str, Any], *, reports_dir: Path, kernel: str = KERNEL, scratch: Path
) -> NotebookResult:
    """Run one notebook under papermill with `parameters`, writing the executed copy to `out`.

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
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    env = {
        "FASHION_CNN_REPORTS": str(reports_dir),
        RUN_LOG: str(log),  # the kernel's default store logs every run a notebook loads
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
    return NotebookResult(path.name, out, parameters, seconds, unique)


# ----------------------------------------------------------------------------------------------
# Rendering

REPORT_CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; line-height: 1.4; color: #222; }
main, .jp-Notebook { max-width: 180mm; margin: 0 auto; padding: 0 !important; }
.jp-Cell { padding: 0 !important; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
.jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; }
.jp-RenderedHTMLCommon table { font-size: 7pt; max-width: 100%; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { white-space: normal !important; word-break: normal;
  overflow-wrap: break-word; padding: 1.5pt 3pt !important; }
.jp-RenderedHTMLCommon table, table.report-table { font-size: 8pt; border-collapse: collapse; margin: 4pt 0;
  table-layout: auto; max-width: 100%; }
table.report-table th, table.report-table td { padding: 2pt 5pt; border-bottom: 0.5pt solid #ccc; text-align: right;
  white-space: nowrap; }
table.report-table td a { font-size: 7pt; word-break: break-all; }
.jp-RenderedHTMLCommon pre, pre { font-size: 6.5pt; line-height: 1.25; white-space: pre; overflow: hidden; }
.jp-RenderedHTMLCommon h1 { font-size: 17pt; border-bottom: 1pt solid #999; padding-bottom: 2pt; margin-top: 18pt; }
.jp-RenderedHTMLCommon h2 { font-size: 13pt; margin-top: 12pt; }
.jp-RenderedHTMLCommon h3 { font-size: 11pt; }
.anchor-link { display: none; }
.report-title { text-align: center; margin: 10mm 0 6mm; }
.report-title h1 { font-size: 22pt; border: none; margin: 0; }
.report-title p { margin: 2pt 0; color: #555; }
nav.toc { margin: 4mm 0 8mm; }
nav.toc ul { margin: 0; padding-left: 14pt; list-style: none; }
nav.toc > ul { padding-left: 0; }
nav.toc > ul > li { margin-top: 3pt; font-weight: bold; }
nav.toc > ul > li li { font-weight: normal; }
nav.toc li { margin: 1pt 0; }
.appendix table.report-table { width: 100%; }
.appendix table td, .appendix table th { text-align: left; vertical-align: top; font-size: 7.5pt; white-space: normal; }
.appendix td.keys { font-size: 6.5pt; }
.appendix td.keys code { font-size: 6pt; }
.appendix td.params { white-space: nowrap; }
.appendix code { font-size: 7pt; word-break: break-all; }
@media print {
  h1.section { page-break-before: always; }
  h1, h2, h3 { page-break-after: avoid; break-after: avoid-page; }
  /* a markdown cell holding a heading stays on the page of the output it introduces */
  .jp-MarkdownCell:has(h1, h2, h3, h4) { break-after: avoid-page; }
  .jp-OutputArea-output img, table, pre { page-break-inside: avoid; }
  /* a page-tall figure still fits under its heading and introduction (A4 leaves 267 mm) */
  .jp-OutputArea-output img { max-height: 220mm; width: auto; }
  a { color: #1a4c8c; text-decoration: none; }
}
"""


def _library_versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _table(rows: list[tuple[str, str]], head: tuple[str, str] | None = None) -> str:
    body = "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in rows)
    header = f"<tr><th>{head[0]}</th><th>{head[1]}</th></tr>" if head else ""
    return f'<table class="report-table">{header}{body}</table>'


def benchmark_html(folder: Path | None = None) -> str:
    """The latest `make bench` tables (one per device) as HTML, their headings demoted under the appendix's."""
    import mistune

    from .bench import latest_tables

    text = re.sub(r"^# ", "### ", latest_tables(folder), flags=re.MULTILINE)
    return re.sub(r"<table>", '<table class="report-table">', mistune.html(text))


def appendix_html(results: list[NotebookResult], device: str, bench_dir: Path | None = None) -> str:
    """Provenance: versions, commit, device, dataset checksums, every notebook's parameters, run keys and
    wall time; then the latest benchmark (from `bench_dir`, default reports/bench/)."""
    prov = provenance(device)
    esc = html.escape
    general = [
        (
            "git commit",
            f"<code>{esc(str(prov['git_commit']))}</code>"
            + (" (with uncommitted changes)" if prov["git_dirty"] else ""),
        ),
        (
            "device",
            esc(f"{prov['device']}: {prov['device_name']}") + (f", CUDA {prov['cuda']}" if prov["cuda"] else ""),
        ),
        ("platform", esc(prov["platform"])),
        ("Python", esc(prov["python"])),
        ("dataset folder", f"<code>{esc(prov['data_source'])}</code>"),
        ("rendered", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
    ]
    versions = [(esc(k), esc(v)) for k, v in _library_versions().items()]
    checksums = [(f"<code>{esc(k)}</code>", f"<code>{esc(v)}</code>") for k, v in prov["data_checksums"].items()]
    notebooks = []
    for r in results:
        models = sorted({k["model"] for k in r.run_keys})
        keys = (
            (
                f"{len(r.run_keys)} runs of {', '.join(esc(m) for m in models)}: "
                + " ".join(f"<code>{esc(k['key'])}</code>" for k in r.run_keys)
            )
            if r.run_keys
            else "none"
        )
        params = "<br>".join(f"{esc(k)} = {esc(repr(v))}" for k, v in r.parameters.items())
        notebooks.append(
            f'<tr><td>{esc(r.name)}</td><td class="params">{params}</td>'
            f"<td>{r.seconds:.1f}&nbsp;s</td>"
            f'<td class="keys">{keys}</td></tr>'
        )
    total = sum(r.seconds for r in results)
    return (
        '<div class="appendix"><h1 class="section" id="appendix">Appendix: provenance</h1>'
        "<p>Everything needed to reproduce the numbers above: the code version, the software, the device, the data "
        "and, per notebook, the parameters it ran with, its wall time and the stored runs it used "
        "(<code>reports/runs/&lt;key&gt;/</code>, each with its own config, history and provenance).</p>"
        f'<h2 id="appendix-environment">Environment</h2>{_table(general)}'
        f'<h2 id="appendix-versions">Library versions</h2>{_table(versions, ("library", "version"))}'
        f'<h2 id="appendix-data">Dataset checksums (MD5 of the decompressed files)</h2>{_table(checksums, ("file", "MD5"))}'
        f'<h2 id="appendix-notebooks">Notebooks</h2><table class="report-table"><tr><th>notebook</th><th>parameters</th>'
        f"<th>wall time</th><th>runs used (models, then run keys)</th></tr>{''.join(notebooks)}"
        f"<tr><td><b>total</b></td><td></td><td><b>{total:.1f}&nbsp;s</b></td><td></td></tr></table>"
        '<h2 id="appendix-bench">Speed: the latest benchmark</h2><p>What <code>make bench</code> measured last on '
        "each device: our engine against a naive DataLoader loop, a study trained one by one and on Ray, "
        f"and t-SNE (docs/speed.md).</p>{benchmark_html(bench_dir)}</div>"
    )


def _merged_notebook(results: list[NotebookResult]):
    """All executed notebooks as one, without parameter cells, printed output (stdout and stderr: logs
    and progress bars, which the executed copies in reports/notebooks/ keep) or empty code cells."""
    import nbformat

    merged = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": KERNEL, "display_name": KERNEL, "language": "python"},
            "language_info": {"name": "python"},
        }
    )
    for r in results:
        nb = nbformat.read(r.path, as_version=4)
        for i, cell in enumerate(nb.cells):
            cell.id = f"{Path(r.name).stem[:40]}-{i}"  # unique across notebooks
            if set(cell.metadata.get("tags", [])) & set(HIDDEN_TAGS):
                continue
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if o.output_type != "stream"]
                if not cell.outputs:
                    continue
            merged.cells.append(cell)
    return merged


def render_html(
    results: list[NotebookResult],
    out: Path,
    *,
    title: str,
    subtitle: str,
    device: str,
    link_prefix: str = ".",
    bench_dir: Path | None = None,
) -> Path:
    """One self-contained HTML of all executed notebooks: title, table of contents, the sections in
    notebook order with code and parameter cells hidden, figures embedded, and the appendix.

    Links into the run store (`runs/...`, relative to the reports folder) get `link_prefix`, the
    reports folder as seen from where the HTML will finally live.
    """
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(_merged_notebook(results))
    soup = BeautifulSoup(body, "html.parser")
    for script in soup.find_all("script"):
        script.decompose()  # MathJax/require.js from a CDN: the report has no math and no widgets
    for link in soup.find_all("link"):
        if link.get("href", "").startswith("http"):
            link.decompose()
    for anchor in soup.select("a.anchor-link"):
        anchor.decompose()
    for cell in soup.select(".jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th"):
        _break_after_underscores(soup, cell)
    soup.title.string = title
    style = soup.new_tag("style")
    style.string = REPORT_CSS
    soup.head.append(style)
    if link_prefix != ".":
        for a in soup.find_all("a", href=True):
            if a["href"].startswith("runs/"):
                a["href"] = f"{link_prefix}/{a['href']}"
    container = soup.find("main") or soup.body
    container.append(BeautifulSoup(appendix_html(results, device, bench_dir), "html.parser"))
    # Table of contents from the section (h1) and subsection (h2) headings.
    items, seen = [], set()
    for h in container.find_all(["h1", "h2"]):
        text = h.get_text(" ", strip=True)
        hid = h.get("id") or "sec-" + "".join(ch if ch.isalnum() else "-" for ch in text.lower())
        while hid in seen:
            hid += "-"
        seen.add(hid)
        h["id"] = hid
        if h.name == "h1":
            h["class"] = h.get("class", []) + ["section"]
            items.append([f'<a href="#{hid}">{html.escape(text)}</a>', []])
        elif items:
            items[-1][1].append(f'<li><a href="#{hid}">{html.escape(text)}</a></li>')
    toc = "".join(f"<li>{head}" + (f"<ul>{''.join(subs)}</ul>" if subs else "") + "</li>" for head, subs in items)
    front = BeautifulSoup(
        f'<div class="report-title"><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></div>'
        f'<nav class="toc"><h2 id="contents">Contents</h2><ul>{toc}</ul></nav>',
        "html.parser",
    )
    container.insert(0, front)
    first = container.find("h1", class_="section")
    if first is not None:
        first["class"] = [c for c in first["class"] if c != "section"] + ["first-section"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(str(soup), encoding="utf-8")
    return out


def _break_after_underscores(soup, cell) -> None:
    """Let long names in a table cell (lenet5_3x3_leaky_dropout_avgpool) wrap after their underscores."""
    for text in list(cell.find_all(string=lambda s: "_" in s)):
        pieces = text.split("_")
        nodes = [pieces[0]]
        for piece in pieces[1:]:
            nodes += ["_", soup.new_tag("wbr"), piece]
        text.replace_with(*nodes)


def chromium(html_path: Path, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess:
    """Run Chromium headless on the HTML with `args` (offline: a fresh profile, no network services)."""
    browser = shutil.which(CHROMIUM)
    if browser is None:
        raise RuntimeError("chromium not found: install it with `make setup` (Debian package chromium)")
    with tempfile.TemporaryDirectory(prefix="fashion-cnn-chromium-") as profile_dir:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile_dir}",
            *args,
            html_path.resolve().as_uri(),
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def render_pdf(html_path: Path, pdf: Path, timeout: float = 300.0) -> Path:
    """Print the HTML to an A4 PDF with Chromium headless."""
    done = chromium(html_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", timeout=timeout)
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise RuntimeError(
            f"chromium could not print {html_path} to PDF (exit {done.returncode}): {done.stderr.strip()[-500:]}"
        )
    return pdf


def pdf_pages(pdf: Path) -> int | None:
    """Page count from poppler's `pdfinfo` (None when it is not installed)."""
    if shutil.which("pdfinfo") is None:
        return None
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False).stdout
    return next((int(line.split()[1]) for line in out.splitlines() if line.startswith("Pages:")), None)


def _replace_dir(new: Path, target: Path) -> None:
    """Move `new` to `target`, replacing what was there (the old copy is removed only afterwards)."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new.rename(target)
    if old.exists():
        shutil.rmtree(old)


def _check_reproduce(reproduce: str | None) -> str | None:
    """`reproduce` as notebook 08's `reports` parameter ("all" → every name); ValueError on an unknown name."""
    from .reproduction import report_names

    if reproduce is None or reproduce.strip() in ("", "auto"):
        return None
    return " ".join(report_names(reproduce.strip()))


def build(
    profile: str = "full",
    study: str | None = "R0",
    device: str = "auto",
    *,
    notebooks_dir: Path | str | None = None,
    reports_dir: Path | str | None = None,
    out_dir: Path | str | None = None,
    kernel: str = KERNEL,
    pdf: bool = True,
    reproduce: str | None = None,
    stored_only: bool = False,
    seeds: str | None = None,
    margin: float | None = None,
    max_seeds: int | None = None,
    echo=print,
) -> Report:
    """Run every notebook and render `report.html` and `report.pdf` into `out_dir` (default: the reports folder).

    `reproduce` names the source reports notebook 08 reproduces ("R0 R4", "all"; None: its default);
    `stored_only` makes it measure only the runs the store holds, training none of the rest.
    `seeds` ("3", "auto", "default"), `margin` (accuracy points) and `max_seeds` reach every notebook
    that declares them (None: the notebooks' defaults). `reports_dir` holds the run store and caches (default `config.REPORTS_DIR`). Nothing in
    `out_dir` changes unless everything succeeded. Raises NotebookFailed naming the notebook and cell.
    """
    cfg.get_profile(profile)  # a typo fails here, before anything runs
    check_statistics(profile, seeds, margin, max_seeds)
    reproduce = _check_reproduce(reproduce)
    resolved = cfg.resolve_device(device)
    reports_dir = Path(reports_dir or cfg.REPORTS_DIR).resolve()
    out_dir = Path(out_dir or reports_dir).resolve()
    notebooks = discover(notebooks_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    started = time.perf_counter()
    try:
        results = []
        for i, path in enumerate(notebooks, 1):
            params = parameters_for(
                path, profile, device, study, reproduce, stored_only, seeds=seeds, margin=margin, max_seeds=max_seeds
            )
            echo(f"[{i}/{len(notebooks)}] {path.name} ...", end="", flush=True)
            try:
                result = execute(
                    path,
                    staging / "notebooks" / path.name,
                    params,
                    reports_dir=reports_dir,
                    kernel=kernel,
                    scratch=staging,
                )
            except NotebookFailed as err:
                echo(" FAILED", flush=True)
                failed = out_dir / "failed" / path.name
                failed.parent.mkdir(exist_ok=True)
                shutil.copy2(staging / "notebooks" / path.name, failed)
                raise NotebookFailed(err.notebook, err.cell, err.ename, err.evalue, err.source, failed) from None
            echo(f" {result.seconds:.1f} s, {len(result.run_keys)} runs", flush=True)
            results.append(result)
        label = f"study {study}, " if study else ""
        title = "Fashion-MNIST: comparing CNN variants"
        subtitle = f"{label}profile {profile}, device {resolved}, rendered {time.strftime('%Y-%m-%d %H:%M')}"
        html_path = render_html(
            results,
            staging / "report.html",
            title=title,
            subtitle=subtitle,
            device=resolved,
            link_prefix=os.path.relpath(reports_dir, out_dir),
            bench_dir=reports_dir / "bench",
        )
        pdf_path = render_pdf(html_path, staging / "report.pdf") if pdf else None
        pages = pdf_pages(pdf_path) if pdf_path else None
        _replace_dir(staging / "notebooks", out_dir / "notebooks")
        os.replace(html_path, out_dir / "report.html")
        if pdf_path:
            os.replace(pdf_path, out_dir / "report.pdf")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    seconds = time.perf_counter() - started
    return Report(out_dir / "report.html", out_dir / "report.pdf", results, seconds, resolved, pages)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the notebooks and render the report(s); exit 1 naming a failing notebook."""
    from . import data as data_mod
    from . import schedule, studies

    parser = argparse.ArgumentParser(prog="python -m fashion_cnn.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="full", choices=sorted(cfg.PROFILES), help="full (default) or quick")
    parser.add_argument("--study", default="R0", help="study injected into notebooks that declare one (default R0)")
    parser.add_argument(
        "--all-studies", action="store_true", help="one report per named study under reports/studies/<name>/"
    )
    parser.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    parser.add_argument("--notebooks", type=Path, default=None, help="notebooks folder (default notebooks/)")
    parser.add_argument("--no-pdf", action="store_true", help="render the HTML only")
    parser.add_argument(
        "--reproduce",
        default=None,
        help='source reports notebook 08 reproduces: "all", or names such as "R0 R4" '
        "(default: all five in the full profile on a GPU, R0 alone otherwise)",
    )
    parser.add_argument(
        "--stored-only",
        action="store_true",
        help="notebook 08 trains nothing and measures the runs the store holds (a study trained in "
        "part with `studies train --only`); the other figures show as not run",
    )
    parser.add_argument(
        "--seeds",
        default=None,
        help='seeds per model: a number, "auto" (a 3-seed pilot chooses n, up to --max-seeds) or '
        '"default" (the profile\'s; auto in the full profile on a GPU)',
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=None,
        help="equivalence margin in accuracy points (default 0.5): closer means count as equivalent "
        "only where a TOST shows it",
    )
    parser.add_argument(
        "--max-seeds", type=int, default=None, help="the most seeds --seeds auto may choose (default 10)"
    )
    parser.add_argument(
        "--address",
        default=None,
        help="a Ray cluster the notebooks train on (host:port; default RAY_ADDRESS, else a local Ray)",
    )
    args = parser.parse_args(argv)
    schedule.use_address(args.address)  # the notebooks' kernels inherit it
    # A SIGTERM (a killed `make`, a CI timeout) unwinds like Ctrl-C, so the staging folder is removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        if args.study not in studies.list_studies():
            studies.get_study(args.study)  # raises with the list of known studies
        _check_reproduce(args.reproduce)  # a typo fails before anything runs
        check_statistics(args.profile, args.seeds, args.margin, args.max_seeds)
        data_mod.load()  # so does a missing or damaged dataset (DataError says how to install it)
        names = studies.list_studies() if args.all_studies else [args.study]
        started = time.perf_counter()
        for name in names:
            out = cfg.REPORTS_DIR / "studies" / name if args.all_studies else cfg.REPORTS_DIR
            print(
                f"report: profile {args.profile}, study {name}, {len(discover(args.notebooks))} notebooks → {out}",
                flush=True,
            )
            rep = build(
                args.profile,
                name,
                args.device,
                notebooks_dir=args.notebooks,
                out_dir=out,
                pdf=not args.no_pdf,
                reproduce=args.reproduce,
                stored_only=args.stored_only,
                seeds=args.seeds,
                margin=args.margin,
                max_seeds=args.max_seeds,
            )
            pages = f", {rep.pages} pages" if rep.pages else ""
            print(f"wrote {rep.html} and {rep.pdf}{pages}" if not args.no_pdf else f"wrote {rep.html}")

        print(
            f"device: {cfg.resolve_device(args.device)} ({device_name(cfg.resolve_device(args.device))}); "
            f"wall time {time.perf_counter() - started:.1f} s"
        )
    except (ValueError, FileNotFoundError) as err:  # bad input: nothing ran
        print(f"report: {err}", file=sys.stderr)
        return 2
    except (NotebookFailed, RuntimeError) as err:
        print(f"\nreport failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
