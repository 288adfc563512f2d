"""``python -m providers.gcp.fake --host 127.0.0.1 --port N``: the fake as a process.

It prints exactly one line, its base URL ``http://HOST:PORT`` (flushed, so a parent reading
the pipe learns the port chosen by ``--port 0``), then serves until SIGTERM or SIGINT and
exits 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from providers.gcp.fake.links import GOOGLE_BASE
from providers.gcp.fake.start import FakeCompute


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m providers.gcp.fake",
        description="Serve a fake of the Compute Engine REST API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 picks one)")
    parser.add_argument(
        "--link-base",
        default=GOOGLE_BASE,
        help="base of the selfLinks it writes (default: the real API's)",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    fake = FakeCompute(host=args.host, port=args.port, link_base=args.link_base)
    fake.serve_in_background()
    print(fake.url, flush=True)
    while not stop.wait(0.2):
        pass
    fake.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
