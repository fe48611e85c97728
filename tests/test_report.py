"""report.py: discovery, parameter injection, failure handling (previous report untouched) and rendering,
on tiny notebooks in a temporary folder (each runs in the real `fashion-cnn` kernel)."""

import re
import subprocess

import nbformat
import pytest

from fashion_cnn import config, report
from fashion_cnn.cli import report as report_cli
from fashion_cnn.setup import ReportSetup

PARAMS = 'profile: str = "full"  # "full" | "quick"\ndevice: str = "auto"  # "auto" | "cpu" | "cuda"'


def _notebook(path, *cells, study=False):
    params = nbformat.v4.new_code_cell(PARAMS + ('\nstudy: str = "R0"  # study' if study else ""))
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": report.KERNEL, "display_name": "k", "language": "python"}}
    )
    nb.cells = [params] + [
        nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("md:") else nbformat.v4.new_code_cell(c) for c in cells
    ]
    nbformat.write(nb, path)
    return path


@pytest.fixture()
def folders(tmp_path, monkeypatch):
    notebooks, reports = tmp_path / "notebooks", tmp_path / "reports"
    notebooks.mkdir()
    reports.mkdir()
    monkeypatch.setattr(config, "REPORTS_DIR", reports)
    return notebooks, reports


def test_discover_takes_numbered_notebooks_sorted(folders):
    notebooks, _ = folders
    for name in ("02_b.ipynb", "01_a.ipynb", "90_appendix.ipynb", "notes.ipynb", "1_x.ipynb", "01_a.py"):
        (notebooks / name).write_text("{}")
    assert [p.name for p in report.discover(notebooks)] == ["01_a.ipynb", "02_b.ipynb", "90_appendix.ipynb"]
    with pytest.raises(FileNotFoundError, match="no notebooks matching"):
        report.discover(notebooks / "empty")


def _setup(**given):
    return ReportSetup.from_parameters(**{"profile": "quick", "device": "cpu", **given})


def test_a_notebook_is_given_profile_device_and_the_setups_parameters_it_declares(folders):
    notebooks, _ = folders
    plain = _notebook(notebooks / "01_a.ipynb", "x = 1")
    studied = _notebook(notebooks / "02_b.ipynb", "x = 1", study=True)
    assert report.parameters_for(plain, _setup().parameters()) == {"profile": "quick", "device": "cpu"}
    assert report.parameters_for(studied, _setup(study="R2").parameters()) == {
        "profile": "quick",
        "device": "cpu",
        "study": "R2",
    }


def test_reproduce_and_the_statistics_reach_only_notebooks_declaring_them(folders):
    notebooks, _ = folders
    plain = _notebook(notebooks / "01_a.ipynb", "x = 1", study=True)
    repro = _notebook(notebooks / "08_r.ipynb", 'reports: str = "auto"', "x = 1")
    nb = __import__("nbformat").read(repro, 4)  # move the declaration into the parameters cell
    nb.cells[0].source += '\nreports: str = "auto"  # reports'
    __import__("nbformat").write(nb, repro)
    full = _setup(profile="full")
    assert "reports" not in report.parameters_for(plain, full.parameters(), "R0 R4")
    assert report.parameters_for(repro, full.parameters(), "R0 R4")["reports"] == "R0 R4"
    assert "reports" not in report.parameters_for(repro, full.parameters(), None)
    nb.cells[0].source += "\nstored_only: bool = False"
    __import__("nbformat").write(nb, repro)
    assert report.parameters_for(repro, full.parameters(), "R4", stored_only=True)["stored_only"] is True
    assert "stored_only" not in report.parameters_for(repro, full.parameters(), "R4")
    assert "stored_only" not in report.parameters_for(plain, full.parameters(), "R4", stored_only=True)
    nb.cells[0].source += '\nseeds: str = "default"\nmargin: float = 0.5'
    __import__("nbformat").write(nb, repro)
    stats = report.parameters_for(repro, _setup(profile="full", seeds="auto", margin=0.25, max_seeds=6).parameters())
    assert stats["seeds"] == "auto" and stats["margin"] == 0.25 and "max_seeds" not in stats  # max_seeds: not declared
    assert report.parameters_for(repro, _setup(seeds=5).parameters())["seeds"] == "5"
    assert (
        report.parameters_for(repro, full.parameters())["seeds"] == "3"
    )  # "default": the full profile's 3 on this CPU
    assert not {"seeds", "margin"} & set(report.parameters_for(plain, _setup(seeds="auto", margin=1.0).parameters()))
    assert report.check_reproduce("all") == "R0 R1 R2 R3 R4"
    assert report.check_reproduce("auto") is None and report.check_reproduce(None) is None
    assert report.check_reproduce(" R4  R0 ") == "R4 R0"
    with pytest.raises(ValueError, match="unknown study 'R9'"):
        report.check_reproduce("R0 R9")


def test_failing_notebook_names_notebook_and_cell_and_keeps_previous_report(folders):
    notebooks, reports = folders
    _notebook(notebooks / "01_ok.ipynb", "md:# 1. Fine", "print(profile)")
    _notebook(notebooks / "02_bad.ipynb", "md:# 2. Broken", "y = 2", 'raise ValueError(f"boom in {profile}")')
    previous = {"report.html": "old html", "report.pdf": "old pdf", "notebooks/01_ok.ipynb": "old copy"}
    for name, text in previous.items():
        (reports / name).parent.mkdir(exist_ok=True)
        (reports / name).write_text(text)
    with pytest.raises(report.NotebookFailed) as caught:
        report.build(_setup(), notebooks_dir=notebooks, reports_dir=reports, pdf=False, echo=lambda *a, **k: None)
    err = caught.value
    # cells of the executed copy: injected parameters (inserted by papermill), parameters, markdown, y = 2, raise
    assert (err.notebook, err.cell, err.ename) == ("02_bad.ipynb", 4, "ValueError")
    assert "notebook 02_bad.ipynb failed in cell 4 ('raise ValueError" in str(err) and "boom in quick" in str(err)
    assert {name: (reports / name).read_text() for name in previous} == previous
    assert not list(reports.glob(".staging-*"))
    failed = nbformat.read(reports / "failed" / "02_bad.ipynb", as_version=4)
    errors = [o for c in failed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ValueError"] and str(reports / "failed" / "02_bad.ipynb") in str(err)

    assert report_cli.main(["--profile", "quick", "--device", "cpu", "--notebooks", str(notebooks), "--no-pdf"]) == 1
    assert (reports / "report.html").read_text() == "old html"


def test_build_renders_one_html_and_pdf_with_sections_and_figures(folders, wide_tables):
    notebooks, reports = folders
    _notebook(
        notebooks / "01_first.ipynb",
        "md:# 1. First section\nSome text.\n## A subsection",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4]);",
    )
    _notebook(
        notebooks / "02_second.ipynb",
        "md:# 2. Second section",
        "import sys\nprint('noise', file=sys.stderr)\nprint('[worker 0] log')\n"
        "from IPython.display import HTML\nHTML('<a href=\"runs/k/weights.safetensors\">w</a>')",
        # as wide as the reproduction table: long unbreakable names, many columns, the last one short
        "import pandas as pd\npd.DataFrame({'where': ['Table: training and validation top-1 accuracy'] * 3,\n"
        "  'arm': ['lenet5_3x3_leaky_dropout_avgpool_%d' % i for i in range(3)], 'setting': 'trainval-test',\n"
        "  'metric': 'train_acc (%)', 'reported': 95.08, 'ours mean ± std': '92.98 ± 0.31',\n"
        "  '95% interval': '[92.22, 93.75]', 'difference': 2.10, 'p_value': 0.0387, 'lastcolumn': 'rowend'})",
        study=True,
    )
    (reports / "bench").mkdir()
    (reports / "bench" / "bench-cpu.md").write_text(
        "# Benchmark on Some CPU (cpu)\n\n| model | s/epoch |\n|---|---:|\n| lenet5 | 1.234 |\n"
    )
    lines = []
    rep = report.build(
        _setup(),
        notebooks_dir=notebooks,
        reports_dir=reports,
        out_dir=reports / "studies" / "R0",
        echo=lambda *a, **k: lines.append(" ".join(map(str, a))),
    )
    assert len(lines) == 4 and lines[0].startswith("[1/2] 01_first.ipynb")  # a start and an end per notebook
    html = rep.html.read_text()
    assert rep.html == reports / "studies" / "R0" / "report.html"
    for text in (
        "1. First section",
        "2. Second section",
        "A subsection",
        "Contents",
        "Appendix: provenance",
        "Dataset checksums",
        "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "01_first.ipynb",
        "study = 'R0'",
    ):
        assert text in html, text
    assert html.count('href="#') >= 4  # table of contents links
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', html)) == 1  # the figure, embedded
    assert "injected-parameters" not in html and 'profile = "quick"' not in html  # parameter cells hidden
    assert "noise" not in html and "[worker 0]" not in html  # printed logs left out
    assert 'href="#appendix-bench"' in html and "<h3>Benchmark on Some CPU (cpu)</h3>" in html  # the latest bench
    assert re.search(r'<table class="report-table">.*<td[^>]*>1.234</td>', html, re.DOTALL)
    assert 'href="../../runs/k/weights.safetensors"' in html  # run-store links relative to the report
    assert "<script" not in html and 'src="http' not in html and 'href="http' not in html  # self-contained, offline
    assert (reports / "studies" / "R0" / "notebooks" / "02_second.ipynb").is_file()
    assert rep.pages and rep.pages >= 2
    text = subprocess.run(["pdftotext", str(rep.pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "1. First section" in text and "2. Second section" in text and "Appendix: provenance" in text
    assert "lastcolumn" in text and text.count("rowend") == 3  # a wide table fits the page: no column cut off
    assert wide_tables(rep.html) == []


def test_build_without_pdf_returns_no_pdf_path(folders):
    notebooks, reports = folders
    _notebook(notebooks / "01_only.ipynb", "md:# 1. Only section", "print(profile)")
    rep = report.build(_setup(), notebooks_dir=notebooks, reports_dir=reports, pdf=False, echo=lambda *a, **k: None)
    assert rep.pdf is None and rep.pages is None and not (reports / "report.pdf").exists()
    assert rep.html == reports / "report.html" and rep.html.is_file()


def test_the_command_line_turns_only_the_projects_errors_into_one_line(folders, monkeypatch):
    notebooks, _ = folders
    _notebook(notebooks / "01_ok.ipynb", "x = 1")

    def bug(*args, **kwargs):
        raise RuntimeError("a bug, not bad input")

    monkeypatch.setattr(report_cli, "build", bug)
    with pytest.raises(RuntimeError, match="a bug"):  # not exit 1 or 2 with one line: its traceback shows
        report_cli.main(["--profile", "quick", "--device", "cpu", "--notebooks", str(notebooks), "--no-pdf"])


def test_bad_arguments_fail_with_the_fix_before_anything_runs(folders, capsys):
    notebooks, reports = folders
    assert report_cli.main(["--study", "R9", "--notebooks", str(notebooks)]) == 2
    assert "unknown study 'R9'" in capsys.readouterr().err
    assert report_cli.main(["--reproduce", "R0 R9", "--notebooks", str(notebooks)]) == 2
    assert "unknown study 'R9'" in capsys.readouterr().err
    assert report_cli.main(["--profile", "quick", "--notebooks", str(notebooks / "missing")]) == 2
    assert "no notebooks matching" in capsys.readouterr().err
    assert report_cli.main(["--seeds", "some", "--notebooks", str(notebooks)]) == 2
    assert "seeds='some': give a number of seeds (1 or more), 'auto' or 'default'" in capsys.readouterr().err
    assert report_cli.main(["--margin", "0", "--notebooks", str(notebooks)]) == 2
    assert "margin 0: give the equivalence margin in accuracy points" in capsys.readouterr().err
    assert report_cli.main(["--seeds", "auto", "--max-seeds", "2", "--notebooks", str(notebooks)]) == 2
    assert "max_seeds 2: give at least 3" in capsys.readouterr().err
    assert report_cli.main(["--seeds", "0", "--notebooks", str(notebooks)]) == 2  # not "default" in disguise
    assert "seeds='0': give a number of seeds (1 or more)" in capsys.readouterr().err
    for argv, says in (
        (["--margin", "abc"], "argument --margin: invalid float value: 'abc'"),
        (["--precision", "fp16"], "argument --precision: invalid choice: 'fp16'"),
    ):
        with pytest.raises(SystemExit) as stop:  # argparse's own checks: one line, not its usage block
            report_cli.main([*argv, "--notebooks", str(notebooks)])
        lines = capsys.readouterr().err.strip().splitlines()
        assert stop.value.code == 2 and len(lines) == 1 and says in lines[0] and "--help" in lines[0]
    assert list(reports.iterdir()) == []


def test_a_missing_dataset_fails_in_one_line_before_any_notebook_runs(folders, capsys, monkeypatch):
    notebooks, reports = folders
    marker = notebooks.parent / "ran"
    _notebook(notebooks / "01_ok.ipynb", f"open({str(marker)!r}, 'w').write('ran')")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(reports / "nowhere"))
    assert report_cli.main(["--profile", "quick", "--notebooks", str(notebooks), "--no-pdf"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("report: ") and "nowhere does not exist" in err and "FASHION_MNIST_DIR" in err
    assert len(err.splitlines()) == 1 and not marker.exists() and list(reports.iterdir()) == []  # nothing ran


def test_pdf_keeps_each_heading_on_the_page_of_what_it_introduces(tmp_path):
    # Twelve heading cells, each followed by an unbreakable figure of growing height: some land
    # near a page end, where the heading must move to the next page with its figure.
    # Most are numbered figures with their caption below, as the builder makes them; half the headings
    # have no introduction. (The full quick report is checked the same way in test_notebooks.)
    def block(i):
        tall = f'<div style="height:{70 + 7 * i}mm;break-inside:avoid">figure {i}</div>'
        if i % 3:
            return f'<figure class="numbered-figure">{tall}<figcaption>Figure {i}. A caption.</figcaption></figure>'
        return tall

    cells = "".join(
        f'<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedHTMLCommon"><h2>Heading {i}</h2>'
        + (f"<p>Intro {i}.</p>" if i % 2 else "")
        + f'</div></div><div class="jp-Cell jp-CodeCell"><div class="jp-OutputArea-output">{block(i)}</div></div>'
        for i in range(12)
    )
    html = tmp_path / "h.html"
    html.write_text(f"<html><head><style>{report.REPORT_CSS}</style></head><body><main>{cells}</main></body></html>")
    pdf = report.render_pdf(html, tmp_path / "h.pdf")
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split("\f")
    ends = [[line for line in page.splitlines() if line.strip()][-1] for page in pages if page.strip()]
    assert len(ends) > 3 and not [e for e in ends if e.startswith(("Heading", "Intro"))], ends


def test_the_appendix_leaves_the_benchmark_out_when_there_is_none_and_tells_no_command(tmp_path):
    assert report.benchmark_html(tmp_path / "bench") == ""
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "bench-cpu.md").write_text("# cpu\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    shown = report.benchmark_html(tmp_path / "bench")
    assert '<h2 id="appendix-bench">' in shown and '<table class="report-table">' in shown and "<h3>cpu</h3>" in shown
    assert "make" not in shown and "python -m" not in shown


def document_problems(html_path, pdf_path=None) -> list[str]:
    """What keeps a rendered report from reading as a document: a figure or table without a numbered
    caption, numbers with gaps, a "Figure N"/"Table N" link to nothing, a reference list that is not
    exactly the cited works, an image without alt text, a section heading missing from the PDF's outline."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_path.read_text(), "html.parser")
    main = soup.find("main") or soup.body
    problems = []
    for kind, tag in (("Figure", "img"), ("Table", "table")):
        numbers = []
        for node in main.find_all(tag):
            figure = node.find_parent("figure")
            caption = figure.find("figcaption").get_text(" ", strip=True) if figure else ""
            found = re.match(rf"{kind} (\d+)\. \S", caption)
            if not found:
                problems.append(f"{tag} without a numbered caption: {str(node)[:80]}")
                continue
            if int(found.group(1)) not in numbers:
                numbers.append(int(found.group(1)))
            if tag == "img" and not node.get("alt", "").startswith(f"{kind} {found.group(1)}."):
                problems.append(f"{kind} {found.group(1)} has no alt text")
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{kind} numbers {numbers} do not run 1…n")
    for link in main.select("a.xref"):
        target = soup.find(id=link["href"][1:])
        caption = target.find("figcaption").get_text(" ", strip=True) if target else ""
        if not caption.startswith(link.get_text() + "."):
            problems.append(f"{link.get_text()} points to {link['href']}, which is not it")
    cited = list(dict.fromkeys(a["href"][len("#ref-") :] for a in main.select("a.cite")))
    listed = [li["id"][len("ref-") :] for li in soup.select("ol.references li")]
    if cited != listed:
        problems.append(f"cited {cited} but the references list {listed}")
    if "[@" in main.get_text():
        problems.append("an unresolved [@…] marker")
    if pdf_path is not None:
        entries = report.render.outline_pages(pdf_path)
        printed = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
        pages = [" ".join(page.split()) for page in printed.split("\f")]
        titles = [t for t, _ in entries]
        if "Figures" in titles and "Tables" in titles:  # the list of figures and tables repeats every caption
            after = titles.index("Tables") + 1
            listed = range(
                entries[titles.index("Figures")][1] - 1, entries[after][1] - 1 if after < len(entries) else len(pages)
            )
            pages = [p for i, p in enumerate(pages) if i not in listed]
        for caption in main.select("figcaption"):  # a caption is printed whole, on one page
            words = " ".join(caption.get_text(" ", strip=True).split())
            if not any(words[:25] in page and words[-25:] in page for page in pages):
                problems.append(f"caption split across pages: {words[:60]}")
        outline = set(titles)
        for h in main.find_all(["h1", "h2"]):
            if "".join(h.get_text(strip=True).split()) not in outline:
                problems.append(f"heading {h.get_text(' ', strip=True)!r} is not in the PDF's outline")
    return problems


def test_figures_and_tables_are_numbered_captioned_referenced_and_cited(folders):
    notebooks, reports = folders
    _notebook(
        notebooks / "01_first.ipynb",
        "md:# 1. First section\nFashion-MNIST [@xiao2017] as LeNet-5 [@lecun1998] sees it.\n## Curves",
        "import matplotlib.pyplot as plt\nfrom fashion_cnn.present import plots\nfig, ax = plt.subplots()\n"
        "ax.plot([1, 2], [3, 4])\nplt.close(fig)\nplots.captioned(fig, 'A line, seed 0', 'fig:01-line')",
        "import pandas as pd\nfrom fashion_cnn.present import plots\n"
        "plots.captioned(plots.html_table(pd.DataFrame({'a': [1]})), 'One number, quick profile', 'tab:01-one')",
        "from IPython.display import Markdown\nMarkdown('The line of [@fig:01-line] and the number of [@tab:01-one] "
        "follow McNemar [@mcnemar1947]; Fashion-MNIST [@xiao2017] again.')",
        "md:## Uncaptioned",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2], [1, 1]);",
    )
    rep = report.build(_setup(), notebooks_dir=notebooks, reports_dir=reports)
    html = rep.html.read_text()
    assert document_problems(rep.html, rep.pdf) == []
    assert "Figure 1.</span> A line, seed 0" in html and "Figure 2.</span> Uncaptioned." in html
    assert '<a class="xref" href="#fig-01-line">Figure 1</a>' in html and 'href="#tab-01-one">Table 1</a>' in html
    assert [t for t in re.findall(r'<li id="ref-(\w+)"', html)] == ["xiao2017", "lecun1998", "mcnemar1947"]
    assert html.count('href="#ref-xiao2017">[1]</a>') == 2  # one number per work, however often it is cited
    assert "Figures</h2>" in html and "A line, seed 0</li>" in html
    assert html.index('id="list-of-figures"') > html.index('id="appendix"')  # the lists at the back
    pages = subprocess.run(["pdftotext", str(rep.pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert re.search(r"page 1 of \d+", pages) and "Fashion-MNIST: comparing CNN variants" in pages.split("\f")[1]
    # the contents give each heading's page, as the outline has it after the second print
    first = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(rep.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    outline = dict(report.render.outline_pages(rep.pdf))
    headings = ("1. First section", "1.1 Curves", "1.2 Uncaptioned", "References", "Appendix: provenance", "Figures")
    for heading in headings:
        shown = re.search(rf"^\s*{re.escape(heading)}\s+(\d+)\s*$", first, re.MULTILINE)
        assert shown and int(shown.group(1)) == outline["".join(heading.split())], heading


def test_a_marker_naming_nothing_stops_the_build_in_one_line_and_keeps_the_previous_report(folders, capsys):
    notebooks, reports = folders
    _notebook(notebooks / "01_first.ipynb", "md:# 1. First\nAs [@fig:nowhere] shows.")
    (reports / "report.html").write_text("old html")
    assert report_cli.main(["--profile", "quick", "--device", "cpu", "--notebooks", str(notebooks), "--no-pdf"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "[@fig:nowhere] names no figure, table or work" in err
    assert (reports / "report.html").read_text() == "old html" and not list(reports.glob(".staging-*"))


def test_a_later_sections_findings_are_listed_in_the_summary_and_link_to_their_tables(folders):
    notebooks, reports = folders
    _notebook(
        notebooks / "00_summary.ipynb",
        "md:# Summary",
        "from fashion_cnn.present import text\ntext.summary.findings()",
    )
    finding = (
        "import pandas as pd\nfrom fashion_cnn.analysis import stats\nfrom fashion_cnn.present import plots, text\n"
        "values = {'a': pd.Series([0.90, 0.91, 0.92]), 'b': pd.Series([0.93, 0.95, 0.94])}\n"
        "c = stats.compare_family(values, [('a', 'b')], 0.005)[0]\n"
        "display(plots.captioned(plots.html_table(text.outcome_table({'val_acc': [c]})), 'b against a', 'tab:02-ab'))\n"
        "text.summary.finding('Two settings', {'val_acc': c}, 'tab:02-ab', '3 seeds')"
    )
    _notebook(notebooks / "02_later.ipynb", "md:# 2. Later", finding)
    rep = report.build(_setup(), notebooks_dir=notebooks, reports_dir=reports, pdf=False, echo=lambda *a, **k: None)
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(rep.html.read_text(), "html.parser")
    item = next(li for li in soup.find_all("li") if li.get_text().startswith("Two settings"))
    words = " ".join(item.get_text().split())
    assert re.fullmatch(
        r"Two settings \(Table 1, 3 seeds\): b − a: validation accuracy \+3\.00 \[\+\S+, \+\S+\] higher\.", words
    ), words
    assert item.find("a", class_="xref")["href"] == "#tab-02-ab"
    assert item.find_previous("h1").get_text(strip=True) == "Summary"  # moved, not shown in section 2 as well
    assert sum("Two settings" in li.get_text() for li in soup.find_all("li")) == 1
    assert document_problems(rep.html) == []
    # the executed section, read alone, still shows its line
    executed = nbformat.read(reports / "notebooks" / "02_later.ipynb", as_version=4)
    assert any("Two settings" in o.get("data", {}).get("text/markdown", "") for o in executed.cells[-1].outputs)


def test_findings_stay_where_declared_without_a_summary_and_an_empty_list_shows_nothing():
    from fashion_cnn.present.text import summary
    from fashion_cnn.report import document

    def notebook(*shown):
        cells = []
        for obj in shown:
            data, meta = obj._repr_mimebundle_()
            out = nbformat.v4.new_output("display_data", data=data, metadata=meta)
            cells.append(nbformat.v4.new_code_cell("x", outputs=[out]))
        return nbformat.v4.new_notebook(cells=cells)

    alone = notebook(summary.Finding("**k-fold** (3 folds): `b` − `a`: +0.10 [−0.20, +0.40] inconclusive."))
    document.gather(alone)
    document.declare(alone)
    assert alone.cells[0].outputs[0]["data"]["text/markdown"].startswith("**k-fold**")
    empty = notebook(summary.findings())
    document.gather(empty)
    assert empty.cells == []


@pytest.mark.slow
def test_ctrl_c_during_a_report_says_what_is_kept_in_one_line(folders, tmp_path):
    """Ctrl-C reaches the whole foreground process group (the command and its kernel): one line saying
    what is kept and that the same command goes on, exit 130, the previous report untouched."""
    import os
    import signal
    import sys
    import time

    notebooks, reports = folders
    started = tmp_path / "started"
    _notebook(notebooks / "01_slow.ipynb", f"import time\nopen({str(started)!r}, 'w').close()\ntime.sleep(120)")
    (reports / "report.html").write_text("the previous report")
    env = {**os.environ, "FASHION_CNN_REPORTS": str(reports)}
    cmd = [sys.executable, "-m", "fashion_cnn", "report", "--profile", "quick", "--notebooks", str(notebooks)]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert started.exists(), proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == 130, err
    assert len(lines) == 1 and lines[0].startswith("report: interrupted") and "same command" in lines[0], err
    assert (reports / "report.html").read_text() == "the previous report"


def test_a_study_files_report_is_headed_by_its_studys_name_not_the_path(folders, tmp_path, monkeypatch):
    from fashion_cnn.studies import study as registry

    monkeypatch.setattr(registry, "_STUDIES", dict(registry._STUDIES))  # the file registers its study
    notebooks, reports = folders
    path = tmp_path / "deep" / "folder" / "mine.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        'name = "mine"\ntitle = "t"\nbaseline = "lenet5"\n[[variants]]\nlabel = "lenet5"\nmodel = "lenet5"\n'
        '[[variants]]\nlabel = "lenet5_3x3"\nmodel = "lenet5_3x3"\n'
    )
    _notebook(notebooks / "01_only.ipynb", "md:# 1. Only section", "print(profile)")
    rep = report.build(
        _setup(study=str(path)), notebooks_dir=notebooks, reports_dir=reports, pdf=False, echo=lambda *a, **k: None
    )
    html = rep.html.read_text()
    assert "study mine, profile quick" in html and str(path.parent) not in html


def test_an_address_nothing_answers_at_fails_with_the_arguments(folders, capsys, monkeypatch):
    """Checked before anything runs, even when no notebook would need Ray: one line, exit 2."""
    from fashion_cnn.cli.studies import main as studies_main

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    notebooks, reports = folders
    _notebook(notebooks / "01_only.ipynb", "md:# 1. Only section", "print(profile)")
    assert report_cli.main(["--profile", "quick", "--address", "127.0.0.1:9", "--notebooks", str(notebooks)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("report: no Ray cluster answers at 127.0.0.1:9")
    assert studies_main(["train", "R0", "--profile", "quick", "--address", "127.0.0.1:9"]) == 2  # trains nothing
    assert "no Ray cluster answers at 127.0.0.1:9" in capsys.readouterr().err
    assert list(reports.iterdir()) == [] and "RAY_ADDRESS" not in __import__("os").environ


def test_a_damaged_run_in_the_store_fails_before_any_notebook_runs(folders, store, capsys, monkeypatch):
    """A truncated weights file is found by the report's up-front checks, not when notebook 08 reads it."""
    from fashion_cnn import RunConfig, get_or_train

    monkeypatch.setenv("FASHION_CNN_QUIET", "1")
    notebooks, reports = folders
    marker = notebooks.parent / "ran"
    _notebook(notebooks / "01_ok.ipynb", f"open({str(marker)!r}, 'w').write('ran')")
    run = get_or_train(RunConfig("lenet5", epochs=1, subset=300, device="cpu"), progress=False)
    weights = run.path / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])  # cut short, as a full disk or a killed copy leaves it
    assert report_cli.main(["--profile", "quick", "--notebooks", str(notebooks), "--no-pdf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"report: {weights} is damaged") and "delete the run's folder" in err[0]
    assert not marker.exists() and list(reports.iterdir()) == []


def test_a_full_disk_while_writing_the_report_stops_in_one_line_and_keeps_the_previous(small_disk, tmp_path):
    import os
    import sys

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "01_big.ipynb", "md:# 1. Big", "print('x' * 600_000)")  # more than the disk holds
    (small_disk / "report.html").write_text("the previous report")
    env = {**os.environ, "FASHION_CNN_REPORTS": str(small_disk), "FASHION_CNN_QUIET": "1"}
    cmd = [sys.executable, "-m", "fashion_cnn", "report", "--profile", "quick", "--notebooks", str(notebooks)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"report: {small_disk}") and "no space left on the disk" in line
    assert "the previous report is kept" in line and (small_disk / "report.html").read_text() == "the previous report"
    assert not list(small_disk.glob(".staging-*"))  # no half-built report left behind


def _marked_study(notebooks, tmp_path, toml: str):
    """A notebook that leaves a marker file when it runs, and a study file (`toml`): the marker and the file."""
    marker = tmp_path / "ran"
    _notebook(notebooks / "01_ok.ipynb", f"open({str(marker)!r}, 'w').write('ran')")
    path = tmp_path / f"{toml.split(chr(34))[1]}.toml"
    path.write_text(toml)
    return marker, path


def test_a_study_of_one_model_is_refused_before_any_notebook_runs(folders, tmp_path, capsys, monkeypatch):
    """Section 4 died on it with an empty StopIteration minutes in; now the report's check refuses it."""
    from fashion_cnn.studies import study as registry

    monkeypatch.setattr(registry, "_STUDIES", dict(registry._STUDIES))
    notebooks, reports = folders
    marker, path = _marked_study(
        notebooks,
        tmp_path,
        'name = "alone"\ntitle = "t"\nbaseline = "lenet5"\n[[variants]]\nlabel = "lenet5"\nmodel = "lenet5"\n',
    )
    assert report_cli.main(["--profile", "quick", "--study", str(path), "--notebooks", str(notebooks)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the baseline 'lenet5' has no variant to be compared with; add at least one" in err[0]
    assert str(path) in err[0] and not marker.exists() and list(reports.iterdir()) == []


def test_a_users_model_raising_in_a_notebook_is_named_in_the_reports_line(
    folders, store, tmp_path, capsys, monkeypatch
):
    """The report's failure line carries the run, the model file and line, and the exception."""
    models = tmp_path / "flaky.py"
    models.write_text(
        "from torch import nn\nfrom fashion_cnn.models import register_model\n\n\n"
        "@register_model(summary='flaky')\ndef flaky_net() -> nn.Module:\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10), Flaky())\n\n\n"
        "class Flaky(nn.Module):\n    calls = 0\n\n    def forward(self, x):\n        Flaky.calls += 1\n"
        "        if Flaky.calls > 3:\n            raise ValueError('boom in a notebook')\n        return x\n"
    )
    notebooks, reports = folders
    _notebook(
        notebooks / "01_train.ipynb",
        "md:# 1. Train",
        f"from fashion_cnn import RunConfig, get_or_train\nfrom fashion_cnn.models import user_files\nuser_files.load({str(models)!r})\n"
        "get_or_train(RunConfig('flaky_net', epochs=1, subset=300, device='cpu'), progress=False)",
    )
    monkeypatch.setenv("FASHION_CNN_REPORTS", str(store.parent))  # the kernel's run store: this test's
    assert report_cli.main(["--profile", "quick", "--notebooks", str(notebooks), "--no-pdf"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "ModelFailed: flaky_net seed 0: model 'flaky_net' raised ValueError: boom in a notebook at " in err
    assert f"{models}:16 (in forward)" in err and (reports / "failed" / "01_train.ipynb").is_file()


def test_a_report_beyond_a_day_here_stops_before_anything_runs_and_says_what_to_do(
    folders, store, tmp_path, capsys, monkeypatch
):
    from fashion_cnn.studies import study as registry

    monkeypatch.setattr(registry, "_STUDIES", dict(registry._STUDIES))
    notebooks, reports = folders
    marker, path = _marked_study(
        notebooks,
        tmp_path,
        'name = "forever"\ntitle = "t"\nbaseline = "lenet5"\n[settings]\nepochs = 1000000000\n'
        '[[variants]]\nlabel = "lenet5"\nmodel = "lenet5"\n[[variants]]\nlabel = "lenet5_3x3"\nmodel = "lenet5_3x3"\n',
    )
    assert report_cli.main(["--study", str(path), "--device", "cpu", "--notebooks", str(notebooks)]) == 2
    out, err = capsys.readouterr()
    estimate = [line for line in out.splitlines() if line.startswith("estimate:")]
    assert len(estimate) == 1 and re.search(r"about [\d,]+ h here on \d+ cores? \(\d+ runs to train, 0 stored\)", out)
    assert re.search(r"PROFILE=quick takes (~|about )\d+ min", estimate[0])  # the quick profile caps the epochs
    (line,) = err.strip().splitlines()
    for fix in ("make plan", "PROFILE=quick", "ADDRESS=host:port", "GPU", "YES=1"):
        assert fix in line, fix
    assert not marker.exists() and list(reports.iterdir()) == []  # nothing ran, nothing written
