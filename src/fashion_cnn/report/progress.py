"""What a notebook trains, live in the terminal of the person who ran `make report`.

A notebook's kernel publishes its training as events (`train.progress`) into a file the builder names;
`Live` follows that file while the notebook runs. In a terminal it keeps one tqdm line: runs and epochs
done of those started, the run training now, the time since the notebook started and the time its
started trainings still need. Elsewhere (CI, `nohup`, a log file) it writes a plain line when a batch of
runs starts and as runs finish (at most one every `PLAIN_EVERY` seconds, and the last). A notebook that
computes without training (t-SNE, the test evaluation) still shows its time: the terminal line ticks, and a
plain line comes after `QUIET` seconds without one, so a long step never reads like a hung kernel. It never
stops the notebook: a line it cannot draw is a line less.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

from tqdm import tqdm

from ..present.text.words import count
from ..train.progress import Follower, Tally

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
PLAIN_EVERY = 10.0  # seconds between two plain lines about finished runs
QUIET = 60.0  # seconds without a plain line before one says the notebook is still at work


def clock(seconds: float | None) -> str:
    """Seconds as "1:05:07", "4:12" or "0:09"; "?" when unknown."""
    if seconds is None:
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def status(tally: Tally, elapsed: float, now: float | None = None) -> str:
    """One line of what trained so far: runs and epochs done of the total, the run now, elapsed, time left."""
    if tally.runs == 0:
        return f"no training so far, {clock(elapsed)} elapsed"
    line = f"runs {tally.runs_done}/{tally.runs}, epochs {tally.epochs_done}/{tally.epochs}"
    if tally.current and tally.runs_done < tally.runs:
        line += f", now {tally.current}"
    left = tally.seconds_left(now)
    left = f", ~{clock(left)} left" if left is not None and tally.runs_done < tally.runs else ""
    return line + f", {clock(elapsed)} elapsed" + left


class Live:
    """Follows the events file `events` while notebook `name` runs (a context manager); `tally` holds what it
    trained. `terminal`: draw a live line on `stream` (default: when stderr is a terminal); otherwise
    plain lines go to `echo`, one at least every `quiet` seconds."""

    def __init__(
        self,
        name: str,
        events: Path,
        *,
        echo: Callable[..., None] = print,
        terminal: bool | None = None,
        stream=None,
        quiet: float = QUIET,
    ):
        self.name, self.follower, self.echo = name, Follower(events), echo
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.tally, self.bar = Tally(), None
        self.started = time.time()
        self.last_line, self.quiet = 0.0, quiet
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name=f"progress {name}", daemon=True)

    def __enter__(self) -> Self:
        self.started = self.last_line = time.time()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._update(final=True)
        if self.bar is not None:
            self.bar.close()

    def _follow(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self._update()
            except Exception as err:  # noqa: BLE001 - the line is a courtesy; the notebook goes on
                logger.debug("progress line of %s: %s", self.name, err)

    def _update(self, final: bool = False) -> None:
        runs_before, epochs_before, done_before = self.tally.runs, self.tally.epochs, self.tally.runs_done
        for event in self.follower.poll():
            self.tally.add(event)
        now = time.time()
        line = status(self.tally, now - self.started, now)
        if self.terminal:
            if not final or self.tally.runs:  # the closing line of a notebook without training says it all
                self._draw(line)
            return
        if self.tally.runs > runs_before:
            runs, epochs = self.tally.runs - runs_before, self.tally.epochs - epochs_before
            self.echo(f"  {self.name}: training {count(runs, 'run')}, {count(epochs, 'epoch')}", flush=True)
            self.last_line = now
        finished = self.tally.runs_done > done_before
        done = self.tally.runs_done == self.tally.runs
        if (finished and (now - self.last_line >= PLAIN_EVERY or done or final)) or (
            not final and now - self.last_line >= self.quiet
        ):
            self.echo(f"  {self.name}: {line}", flush=True)
            self.last_line = now

    def _draw(self, line: str) -> None:
        drawn = line.replace("{", "(").replace("}", ")")
        bar_format = "{desc}: " + ("{percentage:3.0f}%|{bar:16}| " if self.tally.runs else "") + drawn
        if self.bar is None:
            sized = shutil.get_terminal_size((0, 0)).columns > 0  # a terminal that knows its width follows it
            self.bar = tqdm(
                total=1.0,
                file=self.stream,
                leave=False,
                dynamic_ncols=sized,
                ncols=None if sized else 100,
                nrows=None if sized else 40,  # a terminal of unknown size (0 rows): tqdm would hide the line
                desc=f"  {self.name}",
                bar_format=bar_format,
            )
        self.bar.total = max(self.tally.work, 1e-9)
        self.bar.n = min(self.tally.work_done, self.bar.total)
        self.bar.bar_format = bar_format
        self.bar.refresh()
