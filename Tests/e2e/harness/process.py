"""A child process whose output goes to a log file, and one-shot runs of `trellis`."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional, Sequence, Union

from .paths import trellis_binary
from .waiting import ProcessDied, TimedOut

Pattern = Union[str, "re.Pattern[str]"]


class ManagedProcess:
    """Runs `argv` with stdout and stderr appended to `log_path`. Never left running: `close()`
    (called by the fixtures in a `finally`) kills whatever is still alive."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: Optional[dict] = None):
        self.name = name
        self.stopped = False  # set by stop(): the fixtures then only clean up
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self._log.write(f"$ {' '.join(self.argv)}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env if env is not None else os.environ.copy(),
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check_alive(self) -> None:
        """Raises `ProcessDied` (not retried by `eventually`) with the log tail if it exited."""
        code = self.proc.poll()
        if code is not None:
            raise ProcessDied(f"{self.name} (pid {self.pid}) exited with {code}; log tail:\n{self.tail()}")

    def logs(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.logs().splitlines()[-lines:])

    def log_mark(self) -> int:
        """The current length of the log; pass as `since=` to look only at what comes after."""
        return len(self.logs())

    def find_log(self, pattern: Pattern, since: int = 0) -> Optional[str]:
        """The first log line after offset `since` that matches `pattern` (a regex), if any."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        for line in self.logs()[since:].splitlines():
            if regex.search(line):
                return line
        return None

    def wait_for_log(self, pattern: Pattern, timeout: float = 20.0, since: int = 0) -> str:
        """Polls the log until a line after `since` matches `pattern`; returns that line. Fails
        early if the process exits without having logged it."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.find_log(pattern, since)
            if line is not None:
                return line
            if not self.alive():
                # One last look: the line may have been written just before exiting.
                line = self.find_log(pattern, since)
                if line is not None:
                    return line
                self.check_alive()
            if time.monotonic() >= deadline:
                raise TimedOut(
                    f"{self.name}: no log line matching {getattr(pattern, 'pattern', pattern)!r} "
                    f"within {timeout:g}s; log tail:\n{self.tail()}"
                )
            time.sleep(0.05)

    def signal(self, signum: int) -> None:
        if self.alive():
            self.proc.send_signal(signum)

    def wait(self, timeout: float) -> Optional[int]:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 10.0, expect_code: Optional[int] = 0) -> Optional[int]:
        """SIGTERM, wait up to `timeout` s; kill if it is still running. Asserts the exit code
        when `expect_code` is not None (after killing, so nothing is left behind)."""
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.wait(timeout)
        if code is None:
            self.kill()
            raise AssertionError(
                f"{self.name} (pid {self.pid}) did not exit within {timeout:g}s of SIGTERM; "
                f"killed. Log tail:\n{self.tail()}"
            )
        if expect_code is not None:
            assert code == expect_code, (
                f"{self.name} exited with {code} after SIGTERM, expected {expect_code}; "
                f"log tail:\n{self.tail()}"
            )
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def close(self) -> None:
        """Kills the process if still running and closes the log. Idempotent."""
        try:
            self.kill()
        finally:
            if not self._log.closed:
                self._log.close()


def run_trellis(args: Sequence[str], timeout: float = 30.0, binary: Optional[Path] = None) -> subprocess.CompletedProcess:
    """Runs `trellis ARGS...` to completion (killed after `timeout` s, which fails the test)."""
    argv = [str(binary or trellis_binary())] + [str(a) for a in args]
    try:
        return subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        raise AssertionError(
            f"`{' '.join(argv)}` still running after {timeout:g}s; stdout={error.stdout!r} stderr={error.stderr!r}"
        ) from None
