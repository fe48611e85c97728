"""Rendering: the executed notebooks merged into one self-contained HTML (title, contents, sections,
the provenance appendix with the latest benchmark), then printed to an A4 PDF by Chromium headless.
"""

from __future__ import annotations

import html
import importlib.metadata
import logging
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .. import config as cfg
from ..errors import Error
from ..present.text.summary import WALL_TIME_CLASS
from ..present.text.words import count
from ..train.store import provenance
from . import document
from .notebooks import KERNEL, NotebookResult, runs_counted

logger = logging.getLogger(__name__)

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


class RenderFailed(Error, RuntimeError):
    """Chromium is missing or could not print the HTML to PDF."""


REPORT_CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; line-height: 1.4; color: #222; }
main, .jp-Notebook { max-width: 180mm; margin: 0 auto; padding: 0 !important; }
.jp-Cell { padding: 0 !important; }
div[id^="cell-id=00_"] .jp-RenderedHTMLCommon { font-size: 9pt; }  /* front matter (notebook 00): the summary fits a page */
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
nav.toc li { margin: 1pt 0; position: relative; padding-right: 3em; }
nav.toc li li { margin-right: -3em; }  /* a subsection's page lines up with its section's */
nav.toc .toc-page { position: absolute; right: 0; top: 0; font-weight: normal; }  /* on a long title's first line */
.appendix table.report-table { width: 100%; }
.appendix table td, .appendix table th { text-align: left; vertical-align: top; font-size: 7.5pt; white-space: normal; }
.appendix td.keys { font-size: 6.5pt; }
.appendix td.keys code { font-size: 6pt; }
.appendix td.params { white-space: nowrap; }
.appendix code { font-size: 7pt; word-break: break-all; }
figure { margin: 6pt 0; }
figure.numbered-figure img { display: block; margin: 0 auto; }
figcaption { font-size: 8.5pt; color: #333; margin: 3pt 0; }
p.figure-data { font-size: 7pt; color: #666; margin: 1pt 0 4pt; }
figure.numbered-table figcaption { margin-bottom: 2pt; }
.caption-number { font-weight: bold; }
nav.lof ul { margin: 0; padding-left: 0; list-style: none; font-size: 8.5pt; }
nav.lof li { margin: 1pt 0; }
ol.references { font-size: 9pt; padding-left: 18pt; }
ol.references li { margin: 2pt 0; }
@media print {
  figure { break-inside: avoid; }
  /* JupyterLab keeps every output on one page, so a long text jumped whole to the next page and left a gap:
     text flows on; a figure or table still keeps whole (its own rules) */
  .jp-OutputArea-child { break-inside: auto; display: block; }
  /* a long table (plots.LONG_TABLE rows) may span pages, its header repeated, rather than leave one half empty */
  table.long-table, figure.numbered-table:has(table.long-table) { page-break-inside: auto; break-inside: auto; }
  table.long-table tr { break-inside: avoid; }
  /* a caption stays with its figure (below it) or table (above it), and never forbids the break after a figure */
  figure.numbered-figure figcaption { break-before: avoid; }
  figure.numbered-table figcaption { break-after: avoid; }
  /* numbered sections flow on (a forced break left half-empty pages); the back matter starts a page */
  h1#references, h1#lists, .appendix > h1:first-child { page-break-before: always; }
  h1, h2, h3 { page-break-after: avoid; break-after: avoid-page; }
  /* a markdown cell holding a heading stays on the page of the output it introduces */
  .jp-MarkdownCell:has(h1, h2, h3, h4) { break-after: avoid-page; }
  .jp-OutputArea-output img, table, pre { page-break-inside: avoid; }
  /* a page-tall figure still fits under its heading, introduction and caption (A4 leaves 267 mm) */
  .jp-OutputArea-output img { max-height: 190mm; width: auto; }
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


def latest_tables(folder: str | Path | None = None) -> str:
    """The saved benchmark tables (one per device, newest first) as Markdown for the report appendix.

    Returns "" when `make bench` has not been run yet (the appendix then leaves the benchmark out).
    """
    folder = Path(folder) if folder else cfg.REPORTS_DIR / "bench"
    files = sorted(folder.glob("bench-*.md"), key=lambda p: p.stat().st_mtime, reverse=True)
    return "\n".join(f.read_text() for f in files)


def benchmark_html(folder: Path | None = None) -> str:
    """The latest `make bench` tables (one per device) as an appendix section, their headings demoted under
    the appendix's; "" when there is none (a reader is not told to run a command)."""
    import mistune

    tables = latest_tables(folder)
    if not tables:
        return ""
    text = re.sub(r"^# ", "### ", tables, flags=re.MULTILINE)
    return (
        '<h2 id="appendix-bench">Speed: the latest benchmark</h2><p>The latest speed measurements on each device: '
        "our engine against a naive DataLoader loop, a study trained one by one and on Ray, and t-SNE.</p>"
        + re.sub(r"<table>", '<table class="report-table">', mistune.html(text))
    )


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
        f"{benchmark_html(bench_dir)}</div>"
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
    document.gather(merged)  # the later sections' findings go into the summary's list
    document.declare(merged)  # captioned outputs become <figure>s, numbered once the whole report is laid out
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
    trained, read = runs_counted(results)
    for span in container.select(f"span.{WALL_TIME_CLASS}"):  # the summary's "how long": known only now
        span.string = (
            f"{sum(r.seconds for r in results) / 60:.1f} minutes, training {count(trained, 'run')} and reading "
            f"{read:,} more from the run store"
        )
    numbering = document.number(container)  # every figure and table in order, the appendix's too
    document.write_data(container, numbering, out.parent / document.DATA_DIR)  # each one's CSV beside the report
    works = document.cited(container, numbering)
    document.resolve(container, numbering, {key: i for i, key in enumerate(works, 1)})
    if works:
        container.find("div", class_="appendix").insert_before(
            BeautifulSoup(document.references_html(works), "html.parser")
        )
    container.append(BeautifulSoup(document.list_html(numbering), "html.parser"))  # at the back, not before the summary
    page = soup.new_tag("style")
    page.string = _page_css(title, subtitle)
    soup.head.append(page)
    # Table of contents from the section (h1) and subsection (h2) headings; a numbered section's
    # subsections are numbered under it ("2.3 Comparisons"), the same in the HTML and the PDF's outline.
    items, seen, section, sub = [], set(), None, 0
    for h in container.find_all(["h1", "h2"]):
        text = h.get_text(" ", strip=True)
        hid = h.get("id") or "sec-" + "".join(ch if ch.isalnum() else "-" for ch in text.lower())
        while hid in seen:
            hid += "-"
        seen.add(hid)
        h["id"] = hid
        if h.name == "h1":
            h["class"] = h.get("class", []) + ["section"]
            numbered = re.match(r"(\d+)\.\s", text)
            section, sub = (numbered.group(1) if numbered else None), 0
            items.append([f'<a href="#{hid}">{html.escape(text)}</a>', []])
        elif items:
            if section is not None:
                sub += 1
                h.insert(0, f"{section}.{sub} ")
                text = f"{section}.{sub} {text}"
            items[-1][1].append(f'<li><a href="#{hid}">{html.escape(text)}</a></li>')
    toc = "".join(f"<li>{head}" + (f"<ul>{''.join(subs)}</ul>" if subs else "") + "</li>" for head, subs in items)
    front = BeautifulSoup(
        f'<div class="report-title"><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></div>'
        f'<nav class="toc"><h2 id="contents">Contents</h2><ul>{toc}</ul></nav>',
        "html.parser",
    )
    container.insert(0, front)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(str(soup), encoding="utf-8")
    return out


def _page_css(title: str, subtitle: str) -> str:
    """The printed page's running header (title and the study, profile and device line) and page numbers."""

    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return (
        "@page { @top-left { content: " + quoted(title) + "; font-size: 7pt; color: #777; } "
        "@top-right { content: " + quoted(subtitle.split(", rendered")[0]) + "; font-size: 7pt; color: #777; } "
        '@bottom-center { content: "page " counter(page) " of " counter(pages); font-size: 7pt; color: #777; } }'
        "@page :first { @top-left { content: none; } @top-right { content: none; } }"
    )


def _break_after_underscores(soup, cell) -> None:
    """Let long names in a table cell (lenet5_3x3_leaky_dropout_avgpool) wrap after their underscores."""
    for text in list(cell.find_all(string=lambda s: "_" in s)):
        pieces = text.split("_")
        nodes = [pieces[0]]
        for piece in pieces[1:]:
            nodes += ["_", soup.new_tag("wbr"), piece]
        text.replace_with(*nodes)


def chromium(html_path: Path, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess:
    """Run Chromium headless on the HTML with `args` (offline: a fresh profile, no network services).

    Raises RenderFailed (a RuntimeError) when Chromium is not installed."""
    browser = shutil.which(CHROMIUM)
    if browser is None:
        raise RenderFailed("chromium not found: install it with `make setup` (Debian package chromium)")
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
        logger.debug("running %s", cmd)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def _print_pdf(html_path: Path, pdf: Path, timeout: float) -> Path:
    done = chromium(
        html_path,
        "--no-pdf-header-footer",  # the page's own header and numbers instead (`_page_css`)
        "--generate-pdf-document-outline",  # bookmarks from the headings
        f"--print-to-pdf={pdf}",
        timeout=timeout,
    )
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise RenderFailed(
            f"chromium could not print {html_path} to PDF (exit {done.returncode}): {done.stderr.strip()[-500:]}"
        )
    return pdf


def outline_pages(pdf: Path) -> list[tuple[str, int]]:
    """The PDF's outline in document order: each entry's title with its whitespace removed (Chromium drops
    a heading's line breaks, and names a heading it moved to the next page twice: "StatisticsStatistics")
    and its page, 1-based."""
    import pypdf

    reader = pypdf.PdfReader(pdf)
    out: list[tuple[str, int]] = []

    def walk(entries) -> None:
        for entry in entries:
            if isinstance(entry, list):
                walk(entry)
            else:
                title = "".join(entry.title.split())
                half = len(title) // 2
                title = title[:half] if len(title) % 2 == 0 and title[:half] == title[half:] else title
                out.append((title, reader.get_destination_page_number(entry) + 1))

    walk(reader.outline)
    return out


def render_pdf(html_path: Path, pdf: Path, timeout: float = 300.0) -> Path:
    """Print the HTML to an A4 PDF with Chromium headless, twice when it has a table of contents: the first
    print's outline gives each heading's page, which the contents then show (right-aligned, so no line moves).
    Raises RenderFailed when Chromium cannot print."""
    from bs4 import BeautifulSoup

    _print_pdf(html_path, pdf, timeout)
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    entries = soup.select("nav.toc a[href]")
    if not entries:
        return pdf
    outline, at = outline_pages(pdf), 0
    for a in entries:  # in order, so two subsections of one name ("Comparisons") get their own pages
        title = "".join(a.get_text(strip=True).split())
        found = next((i for i in range(at, len(outline)) if outline[i][0] == title), None)
        if found is not None:
            number = soup.new_tag("span", attrs={"class": "toc-page"})
            number.string = str(outline[found][1])
            a.insert_after(number)
            at = found + 1
    numbered = html_path.with_name(f".{html_path.stem}-paged.html")  # beside it: the same relative links
    try:
        numbered.write_text(str(soup), encoding="utf-8")
        _print_pdf(numbered, pdf, timeout)
    finally:
        numbered.unlink(missing_ok=True)
    return pdf


def pdf_pages(pdf: Path) -> int | None:
    """Page count from poppler's `pdfinfo` (None when it is not installed)."""
    if shutil.which("pdfinfo") is None:
        logger.debug("pdfinfo (poppler) not installed: no page count for %s", pdf)
        return None
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False).stdout
    return next((int(line.split()[1]) for line in out.splitlines() if line.startswith("Pages:")), None)
