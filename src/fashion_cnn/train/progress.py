"""What a process is training, as events another process can follow.

A notebook's kernel trains where nobody sees its bars; the report builder runs it and owns the terminal.
So the scheduler's bar (`Bar`) also appends one JSON line per event to the file `PROGRESS`
names (the builder sets it for its kernels; unset, nothing is written), and the builder follows that
file (`Follower`) into one live line (`report.progress`). An event is a batch of runs starting (its runs,
epochs and estimated work, what a resumed run had done), an epoch or a run finishing, or the batch ending.
`Tally` adds up the batches a notebook ran, so the line can say runs and epochs done of the total, the
run that trains now, and the time left.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from . import runs
from .runs import RunConfig
from .store import Store

PROGRESS = "FASHION_CNN_PROGRESS"  # environment: the file training events are appended to


def publish(event: str, **facts) -> None:
    """Append one event (`event` and `facts`, with the time) to the file `PROGRESS` names, if any. A file
    that cannot be written costs the progress line, never the training."""
    path = os.environ.get(PROGRESS)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"event": event, "time": time.time(), **facts}) + "\n")
    except OSError:
        pass


class Follower:
    """Reads the events appended to `path` since the last call (`poll`), whole lines only."""

    def __init__(self, path: Path | str):
        self.path, self.offset, self.rest = Path(path), 0, b""

    def poll(self) -> list[dict]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        *lines, self.rest = (self.rest + chunk).split(b"\n")
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:  # a line torn by a crash: skip it
                continue
        return events


@dataclass
class Tally:
    """Every batch of runs one notebook trained so far, added up from its events (`add`)."""

    runs: int = 0  # runs to train, over the batches started
    runs_done: int = 0
    epochs: int = 0
    epochs_done: int = 0
    work: float = 0.0  # estimated single-core seconds (`runs.estimated_cpu_seconds`), over the batches
    work_done: float = 0.0
    resumed: float = 0.0  # of `work_done`, what resumed runs had done before their batch started
    current: str = ""  # the run that reported last
    trained: set[str] = field(default_factory=set)  # keys of the runs finished here
    first: float | None = None  # when the first batch started (the event's time)
    last: float | None = None  # the newest event's time
    spent: float = 0.0  # seconds inside batches (between a start and its end), for the rate
    open: dict[str, float] = field(default_factory=dict)  # batch → when it started

    def add(self, event: dict) -> None:
        kind, now = event.get("event"), float(event.get("time", time.time()))
        self.last = now
        if kind == "start":
            self.first = now if self.first is None else self.first
            self.open[event["batch"]] = now
            self.runs += event["runs"]
            self.epochs += event["epochs"]
            self.epochs_done += event.get("epochs_done", 0)
            self.work += event["work"]
            self.work_done += event.get("work_done", 0.0)
            self.resumed += event.get("work_done", 0.0)
        elif kind == "epoch":
            self.epochs_done += event.get("epochs", 1)
            self.work_done += event.get("work", 0.0)
            self.current = event.get("title", self.current)
        elif kind == "run":
            self.runs_done += 1
            self.epochs_done += event.get("epochs", 0)
            self.work_done += event.get("work", 0.0)
            self.trained.add(event.get("key", ""))
        elif kind == "end":
            started = self.open.pop(event["batch"], None)
            if started is not None:
                self.spent += now - started

    def seconds_in_batches(self, now: float | None = None) -> float:
        """Seconds spent training: closed batches, and the open ones up to `now`."""
        now = time.time() if now is None else now
        return self.spent + sum(now - t for t in self.open.values())

    def seconds_left(self, now: float | None = None) -> float | None:
        """The time the started batches still need at the rate seen so far (work done per second
        training); None before any work is done."""
        spent, done = self.seconds_in_batches(now), self.work_done - self.resumed
        if done <= 0 or spent <= 0:
            return None
        return max(0.0, (self.work - self.work_done) * spent / done)


class Bar:
    """One bar over all runs, filled by estimated single-core work (`runs.estimated_cpu_seconds`) as
    each epoch finishes on any node, so its time left means something while runs of very different
    sizes train; the postfix counts runs and epochs. The same steps go, as events, to whoever follows
    this process's training (`progress.publish`: the report builder's live line)."""

    def __init__(self, configs: dict[str, RunConfig], store: Store, where: str, progress: bool):
        self.epochs = {k: c.epochs for k, c in configs.items()}
        self.titles = {k: c.title for k, c in configs.items()}
        self.cost = {k: runs.estimated_cpu_seconds(c) / c.epochs for k, c in configs.items()}  # per epoch
        self.done = {k: store.checkpoint_epochs(k) for k in configs}  # a resumed run's epochs
        self.runs = 0
        self.batch = f"{os.getpid()}-{id(self)}"
        work = sum(self.cost[k] * self.epochs[k] for k in configs)
        work_done = sum(self.cost[k] * self.done[k] for k in configs)
        self.bar = tqdm(
            total=work,
            initial=work_done,
            desc=f"{len(configs)} runs {where}",
            disable=not progress,
            leave=False,
            dynamic_ncols=True,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]",
        )
        publish(
            "start",
            batch=self.batch,
            runs=len(configs),
            epochs=sum(self.epochs.values()),
            epochs_done=sum(self.done.values()),
            work=work,
            work_done=work_done,
            where=where,
        )
        self._show(0.0)

    def epoch(self, key: str, epoch: int) -> None:
        epochs, work = self._advance(key, epoch)
        publish("epoch", batch=self.batch, key=key, title=self.titles[key], epochs=epochs, work=work)
        self._show(work)

    def run_done(self, key: str) -> None:
        self.runs += 1
        epochs, work = self._advance(key, self.epochs[key])
        publish("run", batch=self.batch, key=key, title=self.titles[key], epochs=epochs, work=work)
        self._show(work)

    def _advance(self, key: str, epoch: int) -> tuple[int, float]:
        """The epochs and the work that reaching `epoch` adds to run `key`."""
        epochs = max(0, epoch - self.done[key])
        self.done[key] = max(self.done[key], epoch)
        return epochs, self.cost[key] * epochs

    def _show(self, work: float) -> None:
        self.bar.set_postfix_str(
            f"runs {self.runs}/{len(self.epochs)}, epochs {sum(self.done.values())}/{sum(self.epochs.values())}",
            refresh=False,
        )
        if work:
            self.bar.update(work)
        else:
            self.bar.refresh()

    def close(self) -> None:
        publish("end", batch=self.batch)
        self.bar.close()
