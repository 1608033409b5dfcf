"""Run every benchmark and print one table: what was measured, against what, the ratio.

.venv/bin/python -m tests.bench            # all
.venv/bin/python -m tests.bench startup    # one or more of: startup, idle, rfb, display, newvm
"""

from __future__ import annotations

import sys

from tests.bench import display, idle, newvm, rfb_decode, startup

SUITES = {
    "startup": startup.run,
    "idle": idle.run,
    "rfb": rfb_decode.table_rows,
    "display": display.run,
    "newvm": newvm.run,
}


def fmt(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    rows = []
    for name in names:
        rows += SUITES[name]()
    print("| Measured | Value | Against | Reference | Ratio |")
    print("|---|---:|---|---:|---:|")
    for what, value, against, ref in rows:
        print(f"| {what} | {fmt(value)} | {against} | {fmt(ref)} | {value / ref:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
