import contextlib
import subprocess
import time

import psutil
import pytest

from fashion_cnn import config


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
