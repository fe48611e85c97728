"""The notebooks: committed without outputs, each with a typed `parameters` cell, and all of them run
headless under papermill in the quick profile into one HTML and one PDF report."""

import json
import re
import shutil
import subprocess

import deliverable
import nbformat
import papermill
import pytest
from test_report import document_problems

from fashion_cnn import config, report
from fashion_cnn.report.notebooks import runs_counted
from fashion_cnn.sections.plan import estimate, report_plan
from fashion_cnn.setup import ReportSetup
from fashion_cnn.tune import plan_search

NOTEBOOKS = report.discover()


def _title(path):
    nb = nbformat.read(path, as_version=4)
    return next(
        line[2:].strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("# ")
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean_with_a_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "strip outputs: make strip"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    source = params[0].source
    assert 'profile: str = "full"' in source and 'device: str = "auto"' in source
    assert all(re.match(r"^\w+: [\w\[\], |]+ = .+  # .+", line) for line in source.splitlines() if line.strip()), (
        "every parameter is typed and commented"
    )
    assert _title(path)  # a "# " heading names the report section
    declared = {line.split(":")[0] for line in source.splitlines() if line.strip()}
    assert set(papermill.inspect_notebook(str(path))) == declared, "papermill parses every parameter line"


def _quick(**given) -> ReportSetup:
    return ReportSetup.from_parameters(profile="quick", device="cpu", **given)


@pytest.mark.slow
def test_every_notebook_runs_in_the_quick_profile_into_one_report(tmp_path, monkeypatch, wide_tables):
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path)
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "runs")
    est = estimate(report_plan(_quick()), "quick")  # priced before anything trains
    lines = []
    rep = report.build(_quick(), reports_dir=tmp_path, echo=lambda *a, **k: lines.append(" ".join(a)), terminal=False)
    assert [r.name for r in rep.notebooks] == [p.name for p in NOTEBOOKS]
    # the estimate counted the runs the report trained, but for the search's trials pruned on the way
    trained, read = runs_counted(rep.notebooks)
    assert est.stored == read == 0 and est.to_train - plan_search(None, "quick").trials <= trained <= est.to_train
    # what each notebook trained was said as it trained (plain lines: no terminal here), then its time and runs
    kfold = [line for line in lines if "04_kfold.ipynb" in line]
    assert kfold[0] == "[5/9] 04_kfold.ipynb ..." and re.fullmatch(
        r"  04_kfold\.ipynb: training \d+ runs, \d+ epochs", kfold[1]
    )
    assert re.search(r"runs (\d+)/\1, epochs (\d+)/\2, \d+:\d\d elapsed$", kfold[-2])
    assert re.fullmatch(r"\[5/9\] 04_kfold\.ipynb: \d+:\d\d, \d+ runs trained, \d+ read from the run store", kfold[-1])
    assert all((tmp_path / "notebooks" / p.name).is_file() for p in NOTEBOOKS)
    html = rep.html.read_text()
    titles = [_title(p) for p in NOTEBOOKS]
    positions = [html.find(f">{t}<") for t in titles]
    assert all(p > 0 for p in positions) and positions == sorted(positions), "every section, in notebook order"
    for text in (
        "Contents",
        "Training curves",
        "Model weights",
        "Train and validation metrics",
        "Discussion",
        "Confusion matrix",
        "Misclassified test images",
        "Appendix: provenance",
        "weights.safetensors",
    ):
        assert text in html, text
    figures = len(re.findall(r'<img [^>]*src="data:image/png;base64,', html))
    assert figures >= 13, figures  # 01: 4, 02: 2, 03: 3, 04: 1, 05: 2, 06: 1, and more from later notebooks
    # the runs a notebook used are listed in the appendix, and they are in the (temporary) store
    trained = next(r for r in rep.notebooks if r.name.startswith("02_")).run_keys
    assert len(trained) == 5 * config.get_profile("quick").seeds
    assert all((tmp_path / "runs" / k["key"] / "weights.safetensors").is_file() for k in trained)
    assert rep.pages and rep.pages > 10
    assert wide_tables(rep.html) == []  # every table fits the page's width
    text = subprocess.run(["pdftotext", str(rep.pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    for t in titles + ["Appendix: provenance", "References"]:
        assert " ".join(t.split()) in flat, t
    # the summary's numbers are the sections': validation accuracy as section 2's table, test accuracy as section 3's
    tables = _tables(html)
    summary, metrics2, results3 = tables["tab-00-key-results"], tables["tab-02-metrics"], tables["tab-03-results"]
    assert [summary[m]["validation accuracy (%)"] for m in summary] == [metrics2[m]["val_acc"] for m in summary]
    tested = [m for m in summary if summary[m]["test accuracy (%)"] != "–"]
    assert len(tested) == 2
    assert [summary[m]["test accuracy (%)"] for m in tested] == [
        results3[f"{m} (train+val)"]["test_acc"] for m in tested
    ]
    # the later sections' findings are listed in the summary, each with the numbers of its section's table
    from bs4 import BeautifulSoup

    lead = BeautifulSoup(html, "html.parser").find(string=re.compile("What the later sections found"))
    assert lead.find_previous("h1").get_text(strip=True) == titles[0]
    starts = dict(report.render.outline_pages(rep.pdf))  # every section starts a page: the summary is one page
    assert starts["Howthiswasmeasured"] == starts["".join(titles[0].split())] + 1
    found = [" ".join(li.get_text().split()) for li in lead.find_next("ul").find_all("li")]
    assert [f.split(" (")[0] for f in found] == [
        "k-fold cross-validation",
        "Data augmentation",
        "Learning-rate decay",
        "Reproducing R0",
    ], found
    for line, table in zip(found, ("tab-04-comparisons", "tab-05-comparisons")):
        (row,) = tables[table].values()
        assert f"validation accuracy {row['validation accuracy']}" in line, (line, row)
    # every figure and table with its data beside the report, linked under it with the notebook and cell
    # that made it, and listed in data/index.csv; a figure's data are the numbers of its table
    import pandas as pd

    index = pd.read_csv(tmp_path / "data" / "index.csv")
    numbered = re.findall(r'<span class="caption-number">((?:Figure|Table) \d+)\.</span>', html)
    assert sorted(index["number"]) == sorted(set(numbered)) and all((tmp_path / f).is_file() for f in index["file"])
    for row in index[index["notebook"].notna()].itertuples():
        assert f'<a href="{row.file}">{row.file}</a> · made by {row.notebook}, cell {int(row.cell)}' in html
        cell = nbformat.read(tmp_path / row.notebook, as_version=4).cells[int(row.cell) - 1]
        labels = [o.get("metadata", {}).get(config.OUTPUT_META, {}).get("label") for o in cell.get("outputs", [])]
        assert row.label in labels, (row.number, row.label)  # that cell of the executed copy showed it
    means = pd.read_csv(tmp_path / "data" / "fig-02-means.csv").query("kind == 'points'")
    drawn = dict(zip(means["y_tick"], means["x"].round(2)))
    assert drawn == {m: float(metrics2[m]["val_acc"].split(" ± ")[0]) for m in metrics2}
    # the bundle: everything a reader needs to check a number, without the project
    import zipfile

    from fashion_cnn.report.bundle import bundle

    with zipfile.ZipFile(bundle(tmp_path)) as archive:
        names = set(archive.namelist())
        used = pd.read_csv(archive.open("data/runs.csv"))
    assert {"report.html", "report.pdf", "data/index.csv"} <= names and set(index["file"]) <= names
    assert {f"notebooks/{p.name}" for p in NOTEBOOKS} <= names and not any(n.endswith(".safetensors") for n in names)
    assert {f"runs/{k}/run.json" for k in used["key"]} <= names and len(used) >= len(trained)
    # a document: every figure and table numbered and captioned, references and cross-references that
    # resolve, the outline complete, and no heading at the foot of a page (above the page number)
    assert document_problems(rep.html, rep.pdf) == []
    # a deliverable: nothing of the tooling in it, every model introduced before a table names it, and the
    # facts several sections state agreeing (tests/deliverable.py)
    assert deliverable.tooling(html) == []
    assert deliverable.introduced(html) == []
    assert deliverable.disagreements(html) == []
    assert deliverable.sparse_pages(rep.pdf) == []  # no page left mostly empty by a block pushed to the next
    headings = {" ".join(h.split()) for h in re.findall(r"<h[123][^>]*>(.*?)</h[123]>", html, re.DOTALL)}
    headings = {re.sub(r"<[^>]+>", "", h).strip() for h in headings}
    for page in text.split("\f"):
        lines = [line.strip() for line in page.splitlines() if line.strip() and not line.startswith("page ")]
        assert not lines or lines[-1] not in headings, f"a page ends with the heading {lines[-1]!r}"


def _tables(html) -> dict[str, dict[str, dict[str, str]]]:
    """Each numbered table of a report's HTML by its id: row name → column → the cell's text."""
    from bs4 import BeautifulSoup

    out = {}
    for figure in BeautifulSoup(html, "html.parser").select("figure.numbered-table"):
        rows = figure.find("table").find_all("tr")
        columns = [th.get_text(strip=True) for th in rows[0].find_all("th")][1:]
        body = [r for r in rows if r.find("td")]
        out[figure["id"]] = {
            r.find("th").get_text(strip=True): dict(zip(columns, (td.get_text(strip=True) for td in r.find_all("td"))))
            for r in body
            if r.find("th")
        }
    return out


def _notebooks(folder, *names):
    """A notebooks folder holding copies of the named notebooks."""
    folder.mkdir()
    for name in names:
        shutil.copy(next(p for p in NOTEBOOKS if p.name.startswith(name)), folder)
    return folder


@pytest.mark.slow
def test_a_users_study_file_and_model_file_run_through_notebook_02(tmp_path, monkeypatch):
    from test_study_files import write_study

    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path)
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "runs")
    study = write_study(tmp_path)
    rep = report.build(
        _quick(study=str(study)),
        notebooks_dir=_notebooks(tmp_path / "nb", "02"),
        pdf=False,
        echo=lambda *a, **k: None,
    )
    html = rep.html.read_text()
    for text in (
        "Which activation gives the best validation accuracy",
        "GELU instead of ReLU",
        "tiny_sgd",
        "Discussion",
    ):
        assert text in html, text
    used = rep.notebooks[0].run_keys
    assert len(used) == 4 * config.get_profile("quick").seeds  # four labelled arms, each its own runs
    provenance = [json.loads((tmp_path / "runs" / k["key"] / "provenance.json").read_text()) for k in used]
    assert sum("model_file" in p for p in provenance) == 2 * config.get_profile("quick").seeds  # the tiny nets


@pytest.mark.slow
def test_the_example_study_beyond_r4_runs_in_the_quick_profile(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path)
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "runs")
    rep = report.build(
        _quick(study=str(config.PROJECT_ROOT / "examples" / "beyond-r4" / "study.toml")),
        notebooks_dir=_notebooks(tmp_path / "nb", "02", "03", "06"),
        pdf=False,
        echo=lambda *a, **k: None,
    )
    html = rep.html.read_text()
    for label in ("residual", "inception", "dense", "r2_base"):
        assert f">{label}<" in html, label
    for count in ("71,020", "68,670", "65,698"):  # the block nets' parameters: LeNet-5's budget
        assert count in html, count
    assert "features per image" in html  # section 6 mapped the best net's penultimate features


def test_every_figure_of_the_notebooks_takes_its_caption_from_the_text_by_label():
    from fashion_cnn.present.text.captions import CAPTIONS

    labels = set()
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            assert "plots.captioned(" not in cell.source, path.name  # captions are words: present.text.captions
            labels |= set(re.findall(r'plots\.figure\(\s*"([^"]+)"', cell.source))
    for path in (config.PROJECT_ROOT / "src" / "fashion_cnn" / "present").rglob("*.py"):  # a sweep's panel
        labels |= set(re.findall(r'\bfigure\(\s*"([^"]+)"', path.read_text()))
    assert labels == set(CAPTIONS)  # none missing, none left over
