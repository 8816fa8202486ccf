"""What the styles that run in a child process share: starting it, ending it, and quoting the end of its stderr.

Used by the Keras worker (:mod:`.keras_impl.proxy`) and the exec protocol's programs
(:mod:`.exec_impl.client`): each owns one :class:`Child` and keeps only its protocol and its
error messages.  The child's stderr goes to a temporary file (a pipe nobody reads would block a
chatty child) that outlives the child, so that the error which says it died can quote its tail.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from typing import IO, Any

STDERR_TAIL = 4000  # characters of the child's stderr quoted in an error


class Child:
    """At most one running child process of ``argv`` (in ``env``; None: this one's), its pipes and its stderr file.

    :attr:`proc` is the running child's Popen, None before :meth:`start` and after :meth:`kill` or
    :meth:`close`; ``popen`` are further keyword arguments of every Popen (``bufsize=0`` …).
    """

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, **popen: Any) -> None:
        self.argv, self.env, self.popen = argv, env, popen
        self.proc: subprocess.Popen | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def ended(self) -> int | None:
        """The exit status of a child that has ended on its own since it started; None while it runs, or with none."""
        return None if self.proc is None else self.proc.poll()

    def start(self) -> subprocess.Popen:
        """Start a new child (call with none running), stdin and stdout piped; OSError when it cannot start."""
        self._close_stderr()  # the last child's, kept until now for its error message
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=self.env, **self.popen
        )
        return self.proc

    def kill(self) -> None:
        """Kill the child, if any, reap it and close its pipes; its stderr file stays, for :meth:`stderr_tail`."""
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            _close_pipes(proc)

    @contextlib.contextmanager
    def killed_if_interrupted(self, *failures: type[BaseException]) -> Iterator[None]:
        """Kill the child when the body raises anything but ``failures`` (the caller's own, which already killed it).

        An exchange interrupted in the parent (pytest-timeout, Ctrl-C) leaves the child's answer in the
        pipe, where the next exchange would read it as its own: the next one starts a new child instead.
        """
        try:
            yield
        except failures:
            raise
        except BaseException:
            self.kill()
            raise

    def close(self, timeout: float) -> None:
        """End the child (EOF on its stdin, a kill if it has not exited within ``timeout`` s); close its stderr file."""
        proc, self.proc = self.proc, None
        try:
            if proc is not None:
                _end(proc, timeout)
        finally:
            self._close_stderr()

    def stderr_tail(self) -> str:
        """The last :data:`STDERR_TAIL` bytes of the last child's stderr, as text without trailing blanks; "(empty)"
        when it wrote nothing (or none was started)."""
        if self._stderr is None:
            return "(empty)"
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - STDERR_TAIL))
        return self._stderr.read().decode(errors="replace").rstrip() or "(empty)"

    def _close_stderr(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def _end(proc: subprocess.Popen, timeout: float) -> None:
    try:
        proc.stdin.close()
        proc.wait(timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    finally:
        _close_pipes(proc)


def _close_pipes(proc: subprocess.Popen) -> None:
    """Close our ends of the child's stdin and stdout (a dead child's may already be broken)."""
    for f in (proc.stdin, proc.stdout):
        try:
            f.close()
        except OSError:
            pass
