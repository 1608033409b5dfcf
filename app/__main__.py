"""`python -m app` and the `nido` command: parse the command line, then start the GUI.

This is the composition root. It is the one module of `app` that reaches into the
`widgets` package, and it does so at run time only, so `app` stays importable (and
testable) without any widget code.
"""

from __future__ import annotations

import importlib
import sys

from app import cli, logsetup


def main(argv: list[str] | None = None) -> int:
    options = cli.parse(sys.argv[1:] if argv is None else argv)
    logsetup.route_libvirt_log()  # before libvirt is first imported
    application = importlib.import_module("widgets.application")
    return application.run(options)


if __name__ == "__main__":
    sys.exit(main())
