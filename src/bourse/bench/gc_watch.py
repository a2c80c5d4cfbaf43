"""The longest garbage collection while a bench measures: it falls inside whichever command it
interrupts, so it is part of that command's pause."""

import gc
import time


class GcWatch:
    """The longest garbage collection while watching: with a million accounts a full collection
    takes seconds, and in the engine's thread that is an engine pause too."""

    def __init__(self) -> None:
        self.longest_ns = 0
        self._began = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter_ns()
        else:
            self.longest_ns = max(self.longest_ns, time.perf_counter_ns() - self._began)

    def __enter__(self) -> "GcWatch":
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)
