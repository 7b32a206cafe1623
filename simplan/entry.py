"""The `simplan` command's entry point: loads the commands, then runs them.

Loading takes seconds (numpy, pandas, scipy); Ctrl-C or SIGTERM meanwhile exits 130 / 143
with one line and no traceback, as it does once a command runs.
"""

import signal
import sys

_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def _stop_loading(signum: int, frame: object) -> None:
    sys.stderr.write("stopped while starting: nothing was run or written\n")
    sys.exit(_EXIT.get(signum, 1))


def main() -> None:
    """Run the `simplan` command (see `simplan.cli`)."""
    previous = {signum: signal.signal(signum, _stop_loading) for signum in _EXIT}
    try:
        from simplan.cli import main as run
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    run()
