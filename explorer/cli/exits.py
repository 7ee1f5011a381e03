"""How a command line ends when it cannot finish: one `error:` line on stderr and an exit code, never
a traceback (a bug still shows its traceback: that is for whoever fixes it).

  - a UserError (a bad value, file or folder): its words, exit code 2;
  - Ctrl-C: "interrupted", exit code 130 (128 + SIGINT, as shells report it);
  - SIGTERM (`kill`, a job scheduler): "stopped by SIGTERM", exit code 143. It is turned into an
    exception, so `finally` blocks run and temporary files and folders are removed on the way out.
"""
from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable

from explorer.core.validation import UserError


class Terminated(BaseException):
    """SIGTERM arrived (a BaseException, like KeyboardInterrupt: no `except Exception` swallows it)."""


def _on_sigterm(signum, frame):
    raise Terminated


def run_command(work: Callable[[], int], interrupted: str = "") -> int:
    """`work()`'s exit code, or the error line and exit code above; `interrupted`: what a stop leaves
    behind, said after the error line's first words."""
    main = threading.current_thread() is threading.main_thread()     # signals can only be set there
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main else None
    try:
        return work()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"error: interrupted{'; ' + interrupted if interrupted else ''}.", file=sys.stderr)
        return 130
    except Terminated:
        print(f"error: stopped by SIGTERM{'; ' + interrupted if interrupted else ''}.", file=sys.stderr)
        return 143
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
