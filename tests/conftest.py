import contextlib
import html
import json
import os
import re
import shutil
import signal as signal_module
import subprocess
import sys
import tempfile
import time
from signal import SIG_DFL, SIGABRT, SIGINT

import psutil
import pytest

from fashion_cnn import RunConfig, config, report

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
    dom = report.chromium(probe, "--window-size=794,1123", "--dump-dom", timeout=120).stdout
    found = re.search(r'<pre id="wide-tables">(.*?)</pre>', dom, re.DOTALL)
    assert found, "the probe did not run"
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture()
def wide_tables(tmp_path):
    """`wide_tables(html_path)`: the tables of a report HTML wider than their column when Chromium lays
    it out at A4 width (794 px), as in the PDF, which cuts them off; their widths and first rows."""
    return lambda html_path: _wide_tables(html_path, tmp_path)


@pytest.fixture(scope="session")
def local_ray():
    """A local Ray for this pytest process, in its own temp dir (short: Ray's socket paths must fit
    108 bytes), shut down after the session; only the tests marked `xdist_group("ray")` use it, so one
    pytest worker starts it. Returns the `ray` module."""
    import ray

    from fashion_cnn.train import schedule

    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    before = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = temp
    schedule.connect()
    yield ray
    ray.shutdown()
    if before is None:
        os.environ.pop("RAY_TMPDIR", None)
    else:
        os.environ["RAY_TMPDIR"] = before
    shutil.rmtree(temp, ignore_errors=True)


def _kill_ray_under(folder: str) -> None:
    """End the Ray processes whose command line names `folder` (a test's own Ray temp dir), and their
    children (the workers); never another Ray on this machine."""
    me = os.getpid()
    roots = [
        p for p in psutil.process_iter(["cmdline"]) if p.pid != me and any(folder in a for a in p.info["cmdline"] or [])
    ]
    everything = set(roots)
    for p in roots:
        with contextlib.suppress(psutil.NoSuchProcess):
            everything |= set(p.children(recursive=True))
    for p in everything:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(list(everything), timeout=30)


@pytest.fixture()
def ray_temp():
    """`ray_temp()`: a new short temp dir for a Ray the test starts (a `ray start`, a driver's local
    instance via RAY_TMPDIR); teardown ends every process of those Rays and removes the dirs."""
    made: list[str] = []

    def make() -> str:
        made.append(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
        return made[-1]

    yield make
    for folder in made:
        _kill_ray_under(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def store(tmp_path, monkeypatch):
    """An empty run store for one test."""
    runs = tmp_path / "runs"
    monkeypatch.setattr(config, "RUNS_DIR", runs)
    return runs


_HOLDER = """\
import json, pathlib, sys, time
from fashion_cnn import RunConfig, Store, atomic, get_or_train, run_key
store = Store(sys.argv[1])
c = RunConfig.from_dict(json.loads(sys.argv[4]))
with store.lock(run_key(c)):
    pathlib.Path(sys.argv[2]).touch()
    time.sleep(float(sys.argv[3]))
    run = get_or_train(c, store=store, progress=False)
    atomic.write_json(run.path / "metrics.json", {**run.metrics, "trained_by": "holder"})
"""
HELD = RunConfig("lenet5", epochs=1, subset=300, device="cpu")


@pytest.fixture()
def trained_elsewhere(store, tmp_path):
    """`trained_elsewhere(seconds, config=HELD)`: another process takes the lock of `config`'s run in
    `store`, holds it `seconds`, then trains the run and marks its metrics `trained_by: holder`; returns
    that process once it holds the lock. Teardown kills it (a kill releases the lock)."""
    started: list[subprocess.Popen] = []

    def start(seconds: float, config: RunConfig = HELD) -> subprocess.Popen:
        ready = tmp_path / f"holder-{len(started)}.ready"
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(store), str(ready), str(seconds), json.dumps(config.to_dict())]
        )
        started.append(holder)
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert holder.poll() is None and time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.1)
        return holder

    yield start
    for holder in started:
        holder.kill()
        holder.wait()


def _sigint_as_from_a_terminal() -> None:
    """Popen's preexec_fn: SIGINT back to its default in the script, which Python then turns into
    KeyboardInterrupt. A background job (`cmd &` in a script, nohup) inherits SIGINT ignored, and Python
    keeps it ignored: the SIGINT test then waited forever when the suite ran in the background."""
    signal_module.signal(SIGINT, SIG_DFL)


@pytest.fixture()
def stop_while_training(tmp_path):
    """`stop(args, runs, signal)`: start the script `args`, wait until its workers have each written a
    checkpoint under `runs` (two), send `signal` to the script and return the processes it started that
    are still alive 30 s later. Whatever the test finds, nothing it started is left running. A script
    still running 60 s after the signal fails the test with the traceback of each of its threads."""
    started: list = []

    def stop(args: list[str], runs, signal: int, checkpoints: int = 2) -> list[psutil.Process]:
        log = tmp_path / "driver-stderr.txt"
        with open(log, "w") as err:  # faulthandler: a SIGABRT prints every thread's stack to stderr
            driver = subprocess.Popen(
                args,
                stdout=subprocess.DEVNULL,
                stderr=err,
                preexec_fn=_sigint_as_from_a_terminal,  # noqa: PLW1509 (the driver is started before any thread)
                env={**os.environ, "PYTHONFAULTHANDLER": "1"},
            )
        started.append(driver)
        deadline = time.monotonic() + 180
        while len(list(runs.glob("*/checkpoint.safetensors"))) < checkpoints:
            assert driver.poll() is None and time.monotonic() < deadline, "the workers never trained an epoch"
            time.sleep(0.5)
        children = psutil.Process(driver.pid).children(recursive=True)  # workers and the resource tracker
        started.extend(children)
        driver.send_signal(signal)
        try:
            driver.wait(timeout=60)
        except subprocess.TimeoutExpired:
            driver.send_signal(SIGABRT)
            driver.wait(timeout=30)
            pytest.fail(
                f"the script still ran 60 s after signal {signal}; its threads then:\n{log.read_text()[-6000:]}"
            )
        return psutil.wait_procs(children, timeout=30)[1]

    yield stop
    for process in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


@pytest.fixture()
def models_registry(monkeypatch):
    """The model registry and the loaded model files as they are, restored after the test (a user's model
    file registers its models)."""
    from fashion_cnn.models import _registry
    from fashion_cnn.models import user_files as model_files

    for module, name in (
        (_registry, "_MODELS"),
        (_registry, "_INFO"),
        (model_files, "_FILES"),
        (model_files, "_SOURCE"),
    ):
        monkeypatch.setattr(module, name, dict(getattr(module, name)))


@pytest.fixture()
def small_disk(tmp_path):
    """A real full disk: a 320 KiB tmpfs mounted for the test (root only; skipped elsewhere)."""
    folder = tmp_path / "small"
    folder.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320k", "tmpfs", str(folder)]).returncode:
        pytest.skip("no tmpfs can be mounted here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)])
