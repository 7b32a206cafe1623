"""simplan: try a sales incentive plan on a simulated copy of your own team.

The public API is the list in `__all__`; everything else may change.
"""

from importlib import metadata

from simplan.analysis.backtest import backtest
from simplan.analysis.calibrate import Calibrator
from simplan.analysis.compare import compare
from simplan.errors import ConfigError, SimplanError
from simplan.results import Results, load_results
from simplan.runner import simulate
from simplan.scenario import Scenario, load_scenario

try:
    __version__ = metadata.version("simplan")
except metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "Calibrator",
    "ConfigError",
    "Results",
    "Scenario",
    "SimplanError",
    "backtest",
    "compare",
    "load_results",
    "load_scenario",
    "simulate",
]
