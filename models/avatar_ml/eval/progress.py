"""Progress lines on stderr for long harness runs (stdout stays clean for the final summary)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total: int, every_s: float = 5.0, stream=sys.stderr) -> None:
        self.label, self.total, self.every_s, self.stream = label, total, every_s, stream
        self.start = self.last = time.perf_counter()
        self.done = 0

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.every_s or self.done >= self.total:
            self.last = now
            el = now - self.start
            eta = el / max(self.done, 1) * (self.total - self.done)
            print(f"  [{self.label}] {self.done}/{self.total}  {el:5.1f}s elapsed, ~{eta:4.0f}s left",
                  file=self.stream, flush=True)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
