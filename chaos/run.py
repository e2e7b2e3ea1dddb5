"""`make chaos` (`python -m chaos.run [--short] [scenario ...]`): each scenario at full size
(or short), one CHAOS line each; exit status 1 when any line FAILs."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import argparse
import os
import platform
import sys
import traceback

from .outcome import Outcome
from .scenarios import SCENARIOS, scenario


def machine() -> str:
    return (f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.platform()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.run", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the short runs make test keeps")
    parser.add_argument("scenarios", nargs="*", metavar="scenario",
                        help=f"one or more of: {', '.join(SCENARIOS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"no scenario {', '.join(unknown)}; there are: {', '.join(SCENARIOS)}")
    size = "short" if args.short else "full"
    print(f"# chaos ({size}) on {machine()}", flush=True)
    failed = False
    for name in args.scenarios or SCENARIOS:
        try:
            outcome = scenario(name)(size)
        except Exception as exc:  # noqa: BLE001 - one scenario's crash is its FAIL, not the run's
            traceback.print_exc()
            outcome = Outcome(name, 0, 0, 0, problems=[f"{type(exc).__name__}: {exc}"])
        print(outcome.line(), flush=True)
        for problem in outcome.problems:
            print(f"#   {name}: {problem}", flush=True)
        failed |= not outcome.passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
