"""What the styles that run in a child process share: ending it, and quoting the end of its stderr.

Used by the Keras worker (:mod:`.keras_impl.proxy`) and the exec protocol's programs
(:mod:`.exec_impl.client`), whose stderr goes to a temporary file (a pipe nobody reads would
block a chatty child) that an error message quotes the tail of.
"""

from __future__ import annotations

import os
import subprocess
from typing import IO

STDERR_TAIL = 4000  # characters of the child's stderr quoted in an error


def close_pipes(proc: subprocess.Popen) -> None:
    """Close our ends of the child's stdin and stdout (a dead child's may already be broken)."""
    for f in (proc.stdin, proc.stdout):
        try:
            f.close()
        except OSError:
            pass


def kill(proc: subprocess.Popen) -> None:
    """Kill the child, reap it, and close its pipes."""
    proc.kill()
    proc.wait()
    close_pipes(proc)


def stderr_tail(stderr: IO[bytes] | None) -> str:
    """The last :data:`STDERR_TAIL` bytes of the child's stderr file, as text ("" when there is none)."""
    if stderr is None:
        return ""
    stderr.seek(0, os.SEEK_END)
    size = stderr.tell()
    stderr.seek(max(0, size - STDERR_TAIL))
    return stderr.read().decode(errors="replace")
