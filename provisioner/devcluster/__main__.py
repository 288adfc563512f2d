"""``python -m provisioner.devcluster``: the dev-cluster command without the project CLI."""

from __future__ import annotations

import argparse
import sys

from provisioner.devcluster.command import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m provisioner.devcluster",
        description="Run an in-memory Kubernetes API server for tests and the demo.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
