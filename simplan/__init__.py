"""simplan: try a sales incentive plan on a simulated copy of your own team.

The public API is the list in `__all__`; everything else may change. Names load on first
use, so `import simplan` (and the `simplan` command's start-up) stays light and Ctrl-C while
the command starts is handled like Ctrl-C while it runs.
"""

from importlib import import_module, metadata
from typing import Any

try:
    __version__ = metadata.version("simplan")
except metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

_WHERE = {
    "Calibrator": "simplan.analysis.calibrate",
    "ConfigError": "simplan.errors",
    "Results": "simplan.results",
    "Scenario": "simplan.scenario",
    "SimplanError": "simplan.errors",
    "backtest": "simplan.analysis.backtest",
    "compare": "simplan.analysis.compare",
    "load_results": "simplan.results",
    "load_scenario": "simplan.scenario",
    "optimise": "simplan.analysis.optimise",
    "simulate": "simplan.runner",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Load a public name from its module the first time it is asked for."""
    if name not in _WHERE:
        raise AttributeError(f"module 'simplan' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
