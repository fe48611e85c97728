"""Checks of a rendered report as a reader gets it (the HTML's text, section by section): nothing of the
tooling in it, and the facts that several sections state agreeing with each other. Each returns a list of
problems, empty when the report passes; the quick report's test calls them (tests/test_notebooks.py)."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from fashion_cnn.models import list_models
from fashion_cnn.setup import OPTIONS

APPENDIX = "Appendix: provenance"

# What belongs to the tooling, anywhere in the document
TOOLING = {
    "an absolute path": re.compile(r"(?<![\w.])/(?:tmp|work|home|root|usr|var|opt|mnt)/\S*"),
    "a make command": re.compile(r"\bmake [a-z]"),
    "a python command": re.compile(r"\bpython3? -m\b|\bpip install\b"),
    "a command-line option": re.compile(r"(?<![\w−-])--[a-z][\w-]+"),
    "an enum's repr": re.compile(r"\b[A-Z][A-Za-z]+\.[A-Z][A-Z_]{2,}\b"),
    "a missing value written as code": re.compile(r"(?<![\w-])(?:nan|NaN|None|<NA>|NaT)(?![\w-])"),
}
# What belongs to the notebooks' parameters, in the body (the appendix lists each notebook's parameters)
PARAMETER = re.compile(
    r"\b(?:" + "|".join(sorted((n for n in OPTIONS if "_" in n), key=len, reverse=True)) + r")\b"
    r"|\b(?:stored_only|search_\w+|decay_\w+|reports)\s*=|\b[a-z_]+=\"[^\"]*\""
)


def _soup(html: str) -> BeautifulSoup:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "wbr"]):
        tag.decompose()
    soup.smooth()  # the text around a removed break opportunity (<wbr>) is one string again
    return soup


def _text(tag) -> str:
    """A tag's text as read: the break opportunities the renderer inserts in long names removed."""
    return " ".join(tag.get_text(" ").replace("\u200b", "").replace("\xad", "").split())


def _body_and_appendix(soup: BeautifulSoup) -> tuple[str, str]:
    text = _text(soup)
    cut = text.rfind(APPENDIX)
    return (text[:cut], text[cut:]) if cut >= 0 else (text, "")


def tooling(html: str) -> list[str]:
    """Paths, commands, options, enum reprs and code-like missing values anywhere in the report's text, and
    parameter names in its body: '<what>: …context…' for each."""
    soup = _soup(html)
    body, appendix = _body_and_appendix(soup)
    found = []
    for what, pattern in TOOLING.items():
        for text in (body, appendix):
            found += [f"{what}: …{text[max(m.start() - 40, 0) : m.end() + 40]}…" for m in pattern.finditer(text)]
    found += [f"a parameter name: …{body[max(m.start() - 40, 0) : m.end() + 40]}…" for m in PARAMETER.finditer(body)]
    return found


def _blocks(soup: BeautifulSoup):
    """The document's prose blocks and tables in reading order: ("text" | "table", its text)."""
    for tag in soup.find_all(["p", "li", "table", "h1", "h2", "h3", "figcaption"]):
        if tag.name == "table":
            yield "table", _text(tag)
        elif not tag.find_parent("table") and not tag.find_parent("nav"):
            yield "text", _text(tag)


def introduced(html: str) -> list[str]:
    """Every registered model a table of the body names is named in the prose before that table."""
    soup = _soup(html)
    models = sorted(list_models(), key=len, reverse=True)
    pattern = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, models)) + r")(?![\w])")
    said, problems = set(), []
    for kind, text in _blocks(soup):
        if APPENDIX in text and kind == "text" and text.strip().startswith(APPENDIX):
            break
        names = set(pattern.findall(text))
        if kind == "table":
            problems += [f"{m} is in a table before the text names it" for m in sorted(names - said)]
        said |= names
    return sorted(set(problems))


def disagreements(html: str) -> list[str]:
    """Facts stated in more than one place that must agree: section 2's comparisons as its table and its
    discussion give them; the best model as the summary, section 3 and section 5 name it; the machine said
    one way."""
    soup = _soup(html)
    body, _ = _body_and_appendix(soup)
    problems = []
    table = soup.find("figure", id="tab-02-comparisons")
    if table is not None:
        for row in table.find_all("tr")[1:]:
            cells = [_text(c) for c in row.find_all(["th", "td"])]
            if len(cells) < 2:
                continue
            b, a = (s.strip() for s in cells[0].split(" − ", 1))
            found = re.match(r"([−+]\d+\.\d+) \[([−+]\d+\.\d+), ([−+]\d+\.\d+)\]", cells[1])
            if not found:
                continue
            said = f"{found.group(1)} points, 95% CI {found.group(2)} to {found.group(3)}"
            if said not in body:
                problems.append(f"section 2's table gives {b} − {a} as {cells[1]}, the text nowhere")
    best = re.search(r"The highest mean validation accuracy is (\S+?) ?'s", body)
    augmented = re.search(r"The model is (\S+) \(the study's best", body)
    if best and augmented and best.group(1) != augmented.group(1):
        problems.append(f"the summary's best model is {best.group(1)}, section 5 augments {augmented.group(1)}")
    if re.search(r"\(\d+ threads?\)", body):
        problems.append("a machine written as 'NAME (n threads)' in the body: say it as words.machine does")
    return problems


BACK_MATTER = ("References", "Appendix:provenance", "Figuresandtables")  # outline titles that start a new page


def sparse_pages(pdf, least: float = 0.5) -> list[str]:
    """Pages of the printed report (`pdf`) less than `least` full, other than the last page of a numbered
    section, of the body or of the back matter (a section may end anywhere; its heading, introduction and
    first figure move together): inside a section, a figure or table pushed to the next page leaves such a gap. How full is the share of the page's pixel rows between its header and its
    page number down to its lowest ink (pdftoppm at 30 dpi): how far down the page the content reaches."""
    import subprocess
    import tempfile
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from fashion_cnn.report.render import outline_pages

    starts = {page for title, page in outline_pages(pdf) if title in BACK_MATTER or re.match(r"\d+\.\D", title)}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), f"{tmp}/p"], check=True)
        images = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1]))
        fills = []
        for image in images:
            ink = np.asarray(Image.open(image).convert("L")) < 200
            rows = ink[int(0.07 * len(ink)) : int(0.94 * len(ink))].any(axis=1)  # between header and page number
            fills.append((np.flatnonzero(rows).max() + 1) / len(rows) if rows.any() else 0.0)
    exempt = {len(fills)} | {start - 1 for start in starts}
    return [f"page {i} is {fill:.0%} full" for i, fill in enumerate(fills, 1) if fill < least and i not in exempt]
