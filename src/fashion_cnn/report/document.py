"""The report as a document: numbered, captioned figures and tables, cross-references and citations.

A notebook declares a caption where it shows a figure or table (`plots.captioned`, which puts
`{"caption", "label"}` into the output's metadata under `META`). The builder numbers them in order
across all sections (`number`: Figure 1…, Table 1…), and any text may point at one or cite a work with a
marker, `[@fig:02-curves]`, `[@tab:02-metrics]` (a label has a colon) or `[@xiao2017]`: `resolve` turns each into a link
("Figure 3", "[2]"), and `references_html` lists the cited works, rendered from `references.bib` by pybtex.
A marker naming nothing stops the build in one line (`DocumentError`).

A later section may add a line to the summary (`text.summary.finding`, declared under `META` as a
"finding"): `gather` moves every one, in order, into the list the summary marks (`text.summary.findings`).
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import OUTPUT_META
from ..errors import Error

META = OUTPUT_META  # the output metadata key captions and findings are declared under
BIB = Path(__file__).with_name("references.bib")
MARKER = re.compile(r"\[@([A-Za-z][\w:.-]*)\]")
KINDS = {"figure": "Figure", "table": "Table"}
CLASSES = {"figure": "numbered-figure", "table": "numbered-table"}  # the <figure> of each kind


class DocumentError(Error, ValueError):
    """A reference marker that names no figure, table or work, or a label used twice."""


@dataclass
class Item:
    """One numbered figure or table."""

    kind: str  # "figure" | "table"
    number: int
    caption: str
    anchor: str  # the HTML id

    @property
    def name(self) -> str:
        return f"{KINDS[self.kind]} {self.number}"


@dataclass
class Numbering:
    """Every figure and table of the report, in order, and the labels they answer to."""

    items: list[Item] = field(default_factory=list)
    labels: dict[str, Item] = field(default_factory=dict)

    def add(self, kind: str, caption: str, label: str = "") -> Item:
        number = 1 + sum(i.kind == kind for i in self.items)
        anchor = label.replace(":", "-") if label else f"{kind}-{number}"
        item = Item(kind, number, caption.strip(), anchor)
        if label:
            if label in self.labels:
                raise DocumentError(f"label {label!r} is given to two figures or tables; give each its own")
            self.labels[label] = item
        self.items.append(item)
        return item


def declare(nb) -> None:
    """Turn each output of notebook `nb` that declares a caption (`plots.captioned`) into one HTML output:
    a `<figure>` holding the image or table and its caption, numbered later in document order (`number`).
    The data it shows (`plots.shown_data`, as CSV) and the cell that made it (the cell's id, "<notebook
    stem>-<index>") ride along as attributes until `write_data` puts them beside the report."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            meta = out.get("metadata", {}).get(META)
            if not meta or "caption" not in meta or out.get("output_type") not in ("display_data", "execute_result"):
                continue
            data, caption = out.get("data", {}), html.escape(meta["caption"].strip())
            label = html.escape(meta.get("label", ""), quote=True)
            if "image/png" in data:
                png = data["image/png"]
                png = (png if isinstance(png, str) else base64.b64encode(png).decode()).replace("\n", "")
                body = f'<img src="data:image/png;base64,{png}"><figcaption>{caption}</figcaption>'
                kind = "figure"
            elif "<table" in str(data.get("text/html", "")):
                body, kind = f"<figcaption>{caption}</figcaption>{data['text/html']}", "table"
            else:  # a note shown instead (e.g. "fewer than two trials: no importances"): nothing to number
                continue
            extra = ""
            if meta.get("data"):
                source = html.escape(str(cell.get("id", "")), quote=True)
                extra = f' data-csv="{html.escape(meta["data"], quote=True)}" data-source="{source}"'
            out["data"] = {"text/html": f'<figure class="{CLASSES[kind]}" data-label="{label}"{extra}>{body}</figure>'}
            out["metadata"] = {}


def gather(nb) -> None:
    """Move each finding a section declares (`text.summary.finding`) into the summary's list of findings
    (the output `text.summary.findings` shows), in document order, and drop the cells this empties. A
    report without that list keeps each finding where it was declared; a list with none shows nothing."""
    from ..present.text.summary import FINDINGS_LEAD
    from ..present.text.words import bullets

    def role(out) -> str:
        meta = out.get("metadata", {}).get(META) or {}
        return next((r for r in ("finding", "findings") if meta.get(r)), "")

    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    place = next((out for out in outputs if role(out) == "findings"), None)
    if place is None:
        return
    lines = [out["data"]["text/markdown"] for out in outputs if role(out) == "finding"]
    place["data"], place["metadata"] = {"text/markdown": f"{FINDINGS_LEAD}\n\n{bullets(lines)}"}, {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [out for out in cell.outputs if role(out) != "finding" and (lines or out is not place)]
    nb.cells = [cell for cell in nb.cells if cell.cell_type != "code" or cell.outputs]


def _heading_before(node) -> str:
    heading = node.find_previous(["h1", "h2", "h3"])
    return heading.get_text(" ", strip=True) if heading else "Untitled"


def number(soup) -> Numbering:
    """Number every figure and table of the report `soup` in document order (Figure 1…, Table 1…): a
    declared one keeps its caption; an image or table shown without one is wrapped and captioned by the
    heading above it, so every one has a number and the numbers run without gaps. Images get their
    caption as alt text. Raises DocumentError for a label given twice."""
    numbering = Numbering()
    for node in soup.find_all(["figure", "img", "table"]):
        if node.name == "figure":
            if not set(node.get("class", [])) & set(CLASSES.values()):
                continue
        elif node.find_parent("figure") is not None:
            continue
        else:  # shown without a caption: wrap it
            kind = "figure" if node.name == "img" else "table"
            wrapper = soup.new_tag("figure", attrs={"class": CLASSES[kind], "data-label": ""})
            caption = soup.new_tag("figcaption")
            caption.string = _heading_before(node) + "."
            node.wrap(wrapper)
            if kind == "figure":
                wrapper.append(caption)
            else:
                wrapper.insert(0, caption)
            node = wrapper
        kind = "figure" if CLASSES["figure"] in node["class"] else "table"
        caption = node.find("figcaption")
        item = numbering.add(kind, caption.get_text(" ", strip=True), node.get("data-label", ""))
        node["id"] = item.anchor
        lead = soup.new_tag("span", attrs={"class": "caption-number"})
        lead.string = f"{item.name}."
        caption.insert(0, " ")
        caption.insert(0, lead)
        for img in node.find_all("img"):
            img["alt"] = MARKER.sub("", f"{item.name}. {item.caption}")
    return numbering


DATA_DIR = "data"  # beside report.html: each figure's and table's CSV, and their index
INDEX = "index.csv"


def _table_rows(table) -> list[list[str]]:
    """The cells of an HTML `table` as printed, row by row (its header row first)."""
    return [[cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]


def write_data(soup, numbering: Numbering, folder: Path) -> list[dict]:
    """Write the data of every numbered figure and table of `soup` to `folder`/<anchor>.csv: what it shows
    as declared (`declare`), or a table's cells as printed; put a line under its caption linking the file
    and naming the executed notebook and cell that made it; and write `folder`/index.csv (number, label,
    caption, file, notebook, cell). Returns the index's rows."""
    import csv
    import io

    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for item in numbering.items:
        node = soup.find(id=item.anchor)
        data, source = node.attrs.pop("data-csv", None), node.attrs.pop("data-source", "")
        if data is None and node.find("table") is not None:
            buffer = io.StringIO()
            csv.writer(buffer).writerows(_table_rows(node.find("table")))
            data = buffer.getvalue()
        if data is None:
            continue
        name = f"{item.anchor}.csv"
        (folder / name).write_text(data, encoding="utf-8")
        stem, _, cell = source.rpartition("-")
        made = f"notebooks/{stem}.ipynb, cell {int(cell) + 1}" if cell.isdigit() else ""
        line = soup.new_tag("p", attrs={"class": "figure-data"})
        link = soup.new_tag("a", href=f"{DATA_DIR}/{name}")
        link.string = f"{DATA_DIR}/{name}"
        line.append("Data: ")
        line.append(link)
        if made:
            line.append(f" · made by {made}")
        if item.kind == "figure":
            node.find("figcaption").insert_after(line)
        else:
            node.append(line)
        rows.append(
            {
                "number": item.name,
                "label": node.get("data-label", ""),
                "caption": item.caption,
                "file": f"{DATA_DIR}/{name}",
                "notebook": f"notebooks/{stem}.ipynb" if made else "",
                "cell": int(cell) + 1 if made else "",
            }
        )
    with open(folder / INDEX, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["number", "label", "caption", "file", "notebook", "cell"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _marked(soup) -> list:
    """The text nodes of `soup` that hold a marker, outside code (where `[@…]` is just text)."""
    return [t for t in soup.find_all(string=MARKER) if not t.find_parent(["code", "pre", "script", "style"])]


def cited(soup, numbering: Numbering) -> list[str]:
    """The work keys the text of `soup` cites (markers that are no figure or table label), in order of first use."""
    keys = [k for t in _marked(soup) for k in MARKER.findall(t) if k not in numbering.labels and ":" not in k]
    return list(dict.fromkeys(keys))


def resolve(soup, numbering: Numbering, works: dict[str, int]) -> None:
    """Replace every marker in the text of `soup` by a link: "Figure N" / "Table N" for a label, "[n]"
    for a work numbered in `works`. Raises DocumentError for a marker naming neither."""
    from bs4 import BeautifulSoup

    for node in _marked(soup):
        parts, last = [], 0
        for m in MARKER.finditer(node):
            key = m.group(1)
            parts.append(html.escape(node[last : m.start()]))
            if key in numbering.labels:
                item = numbering.labels[key]
                parts.append(f'<a class="xref" href="#{item.anchor}">{item.name}</a>')
            elif key in works:
                parts.append(f'<a class="cite" href="#ref-{key}">[{works[key]}]</a>')
            else:
                raise DocumentError(
                    f"[@{key}] names no figure, table or work: give a caption's label or a key of {BIB.name}"
                )
            last = m.end()
        parts.append(html.escape(node[last:]))
        node.replace_with(BeautifulSoup("".join(parts), "html.parser"))


def references_html(keys: list[str], bib: Path = BIB) -> str:
    """The works `keys` cite, numbered in that order, formatted by pybtex's plain style as HTML."""
    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin

    data = parse_file(str(bib))
    missing = [k for k in keys if k not in data.entries]
    if missing:
        raise DocumentError(f"[@{missing[0]}] names no work in {bib.name}; add its BibTeX entry or fix the key")
    style = find_plugin("pybtex.style.formatting", "plain")()
    backend = find_plugin("pybtex.backends", "html")()
    rows = [  # one by one: the style's format_entries would sort them by author
        f'<li id="ref-{key}" value="{i}">{style.format_entry(str(i), data.entries[key]).text.render(backend)}</li>'
        for i, key in enumerate(keys, 1)
    ]
    return f'<h1 id="references">References</h1><ol class="references">{"".join(rows)}</ol>'


def list_html(numbering: Numbering) -> str:
    """The lists of figures and tables (each a link), for the back matter."""

    def rows(kind: str) -> str:
        return "".join(
            f'<li><a href="#{i.anchor}">{i.name}</a>. {html.escape(i.caption)}</li>'
            for i in numbering.items
            if i.kind == kind
        )

    return (
        f'<nav class="lof"><h1 id="lists">Figures and tables</h1><h2 id="list-of-figures">Figures</h2>'
        f'<ul>{rows("figure")}</ul><h2 id="list-of-tables">Tables</h2><ul>{rows("table")}</ul></nav>'
    )
