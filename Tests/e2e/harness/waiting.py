"""Polling with a deadline: the only way tests synchronise with processes."""

import time
from typing import Callable, TypeVar

T = TypeVar("T")


class TimedOut(AssertionError):
    """`eventually` gave up; the message carries the last failure."""


class ProcessDied(Exception):
    """A process under test exited: retrying cannot help, so `eventually` re-raises at once."""


def eventually(fn: Callable[[], T], timeout: float = 20.0, interval: float = 0.1, what: str = "") -> T:
    """Calls `fn` until it returns without raising (an `assert` inside is the usual way to fail)
    and returns its result. Raises `TimedOut`, chained to the last failure, after `timeout`
    seconds. `ProcessDied` is never retried."""
    deadline = time.monotonic() + timeout
    attempts = 0
    while True:
        attempts += 1
        try:
            return fn()
        except ProcessDied:
            raise
        except Exception as error:  # noqa: BLE001 - any failure is retried until the deadline
            last = error
        if time.monotonic() >= deadline:
            label = f" waiting for {what}" if what else ""
            raise TimedOut(
                f"timed out after {timeout:g}s ({attempts} attempts){label}; last failure: "
                f"{type(last).__name__}: {last}"
            ) from last
        time.sleep(interval)


def wait_until(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.1, what: str = "") -> None:
    """`eventually` for a predicate returning a truth value."""

    def check() -> None:
        assert predicate(), f"{what or 'condition'} not met yet"

    eventually(check, timeout=timeout, interval=interval, what=what)


def consistently(fn: Callable[[], object], duration: float = 2.0, interval: float = 0.1, what: str = "") -> int:
    """Calls `fn` repeatedly for `duration` seconds; every call must succeed (the first failure
    propagates). For "nothing changes" checks, after a synchronisation point has been reached
    by other means. Returns the number of calls."""
    deadline = time.monotonic() + duration
    calls = 0
    while True:
        fn()
        calls += 1
        if time.monotonic() >= deadline:
            return calls
        time.sleep(interval)
