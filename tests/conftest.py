import contextlib
import html
import json
import re
import subprocess
import time

import psutil
import pytest

from fashion_cnn import config, report

# Lists, after the page has laid out, every table wider than the block it sits in: what the PDF would cut off.
_WIDE_TABLES = """<script>window.addEventListener("load", () => {
  const wide = [];
  document.querySelectorAll("table").forEach((t) => {
    const room = t.parentElement.getBoundingClientRect().width, width = t.getBoundingClientRect().width;
    if (width > room + 1) wide.push(Math.round(width) + " px > " + Math.round(room) + " px: " + t.rows[0].textContent.trim().slice(0, 80));
  });
  const out = document.createElement("pre"); out.id = "wide-tables"; out.textContent = JSON.stringify(wide);
  document.body.appendChild(out);
});</script>"""


def _wide_tables(html_path, scratch) -> list[str]:
    probe = scratch / "wide-tables-probe.html"
    probe.write_text(html_path.read_text().replace("</body>", _WIDE_TABLES + "</body>"))
    dom = subprocess.run([report.CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={scratch / 'chromium-profile'}", "--window-size=794,1123", "--dump-dom",
                          probe.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    found = re.search(r'<pre id="wide-tables">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run"
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture()
def wide_tables(tmp_path):
    """`wide_tables(html_path)`: the tables of a report HTML wider than their column when Chromium lays
    it out at A4 width (794 px), as in the PDF, which cuts them off; their widths and first rows."""
    return lambda html_path: _wide_tables(html_path, tmp_path)


@pytest.fixture()
def store(tmp_path, monkeypatch):
    """An empty run store for one test."""
    runs = tmp_path / "runs"
    monkeypatch.setattr(config, "RUNS_DIR", runs)
    return runs


@pytest.fixture()
def stop_while_training():
    """`stop(args, runs, signal)`: start the script `args`, wait until its workers have each written a
    checkpoint under `runs` (two), send `signal` to the script and return the processes it started that
    are still alive 30 s later. Whatever the test finds, nothing it started is left running."""
    started: list = []

    def stop(args: list[str], runs, signal: int, checkpoints: int = 2) -> list[psutil.Process]:
        driver = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(driver)
        deadline = time.monotonic() + 180
        while len(list(runs.glob("*/checkpoint.safetensors"))) < checkpoints:
            assert driver.poll() is None and time.monotonic() < deadline, "the workers never trained an epoch"
            time.sleep(0.5)
        children = psutil.Process(driver.pid).children(recursive=True)  # workers and the resource tracker
        started.extend(children)
        driver.send_signal(signal)
        driver.wait(timeout=60)
        return psutil.wait_procs(children, timeout=30)[1]

    yield stop
    for process in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
