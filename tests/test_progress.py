"""The live line of `make report` (`report.progress`): a notebook's training events, as a kernel's scheduler
publishes them (`train.progress.publish`), followed into one terminal line or plain lines."""

import io
import json
import time

import pytest

from fashion_cnn.report.progress import Live, clock, status
from fashion_cnn.train.progress import PROGRESS, Follower, Tally, publish


def _batch(path, monkeypatch, runs=2, epochs=3, work=60.0, batch="b1", resumed=0):
    monkeypatch.setenv(PROGRESS, str(path))
    publish(
        "start",
        batch=batch,
        runs=runs,
        epochs=runs * epochs,
        epochs_done=resumed,
        work=work,
        work_done=work / (runs * epochs) * resumed,
        where="here",
    )


def test_clock_reads_like_a_stopwatch():
    assert [clock(s) for s in (9, 252, 3907.4)] == ["0:09", "4:12", "1:05:07"] and clock(None) == "?"


def test_a_tally_counts_runs_epochs_and_work_and_estimates_the_time_left(tmp_path, monkeypatch):
    path = tmp_path / "events.jsonl"
    _batch(path, monkeypatch, resumed=1)  # one epoch done before: not part of the rate
    tally = Tally()
    for event in Follower(path).poll():
        tally.add(event)
    start = tally.first
    tally.add({"event": "epoch", "time": start + 10, "batch": "b1", "title": "lenet5 seed 0", "epochs": 1, "work": 10})
    assert (tally.runs, tally.epochs, tally.epochs_done) == (2, 6, 2)
    assert tally.work_done == pytest.approx(20) and tally.current == "lenet5 seed 0"
    # 10 units of work in 10 s; 40 left → 40 s
    assert tally.seconds_left(now=start + 10) == pytest.approx(40)
    tally.add({"event": "run", "time": start + 30, "batch": "b1", "key": "k0", "epochs": 2, "work": 20})
    tally.add({"event": "end", "time": start + 30, "batch": "b1"})
    assert tally.trained == {"k0"} and tally.runs_done == 1 and tally.seconds_in_batches(now=start + 99) == 30


def test_a_follower_reads_whole_lines_once_and_skips_a_torn_one(tmp_path):
    path = tmp_path / "events.jsonl"
    follower = Follower(path)
    assert follower.poll() == []  # no file yet
    path.write_text(json.dumps({"event": "start"}) + "\n" + '{"event": "ep')
    assert follower.poll() == [{"event": "start"}]
    with path.open("a") as f:
        f.write('och"}\n{torn\n')
    assert follower.poll() == [{"event": "epoch"}] and follower.poll() == []


def test_publish_without_a_follower_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(PROGRESS, raising=False)
    publish("start", batch="x")
    assert list(tmp_path.iterdir()) == []


def _run(path, monkeypatch):
    _batch(path, monkeypatch, runs=2, epochs=1, work=20.0)
    publish("epoch", batch="b1", key="k0", title="lenet5 seed 0", epochs=1, work=10.0)
    publish("run", batch="b1", key="k0", title="lenet5 seed 0", epochs=0, work=0.0)
    publish("run", batch="b1", key="k1", title="lenet5 seed 1", epochs=1, work=10.0)
    publish("end", batch="b1")


def test_live_writes_plain_lines_off_a_terminal(tmp_path, monkeypatch):
    path, lines = tmp_path / "events.jsonl", []
    with Live("02_variants.ipynb", path, echo=lambda *a, **k: lines.append(" ".join(a)), terminal=False) as live:
        _run(path, monkeypatch)
    assert lines[0] == "  02_variants.ipynb: training 2 runs, 2 epochs"
    assert lines[-1].startswith("  02_variants.ipynb: runs 2/2, epochs 2/2") and "elapsed" in lines[-1]
    assert len(lines) <= 3 and live.tally.trained == {"k0", "k1"}


def test_live_draws_one_line_on_a_terminal(tmp_path, monkeypatch):
    path, lines, stream = tmp_path / "events.jsonl", [], io.StringIO()
    with Live("02_variants.ipynb", path, echo=lines.append, terminal=True, stream=stream):
        _run(path, monkeypatch)
    drawn = stream.getvalue()
    assert "02_variants.ipynb" in drawn and "runs 2/2, epochs 2/2" in drawn and "100%" in drawn
    assert lines == []  # nothing printed besides the line


def test_the_status_names_the_run_training_now_until_all_are_done():
    tally = Tally(runs=3, runs_done=1, epochs=9, epochs_done=4, work=90, work_done=40, current="cnn_2 seed 1")
    assert status(tally, 75) == "runs 1/3, epochs 4/9, now cnn_2 seed 1, 1:15 elapsed"


def test_a_notebook_that_trains_nothing_still_shows_its_time(tmp_path):
    path, lines, stream = tmp_path / "events.jsonl", [], io.StringIO()
    with Live("06_tsne.ipynb", path, echo=lambda *a, **k: lines.append(" ".join(a)), terminal=False, quiet=0.4):
        time.sleep(1.3)  # no event: a plain line after each `quiet` seconds without one
    assert 1 <= len(lines) <= 3 and all(line.startswith("  06_tsne.ipynb: no training so far, 0:0") for line in lines)
    with Live("06_tsne.ipynb", path, echo=lines.append, terminal=True, stream=stream):
        time.sleep(0.8)  # the live line ticks without any training
    assert "06_tsne.ipynb: no training so far, 0:0" in stream.getvalue() and "%" not in stream.getvalue()
    quiet = []
    with Live("06_tsne.ipynb", path, echo=quiet.append, terminal=False):
        time.sleep(0.8)  # a short step under the default QUIET says nothing
    assert quiet == []
