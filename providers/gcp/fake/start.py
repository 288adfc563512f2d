"""Running the fake: in-process on a background thread for tests, or as a process.

`start()` is a context manager yielding a `FakeCompute` handle: its URL for
``ClientOptions(api_endpoint=...)``, and the knobs a test needs that no Compute client can
reach (reset, the call log, pending operations, backend health).
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator

from providers.gcp.fake.links import GOOGLE_BASE
from providers.gcp.fake.server import ComputeServer
from providers.gcp.fake.store import Call, Store


class FakeCompute:
    """A running fake: one HTTP server over one `Store`."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, link_base: str = GOOGLE_BASE
    ) -> None:
        self.store = Store(link_base=link_base)
        self._server = ComputeServer((host, port), self.store)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, the value for ``ClientOptions(api_endpoint=...)``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_in_background(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="gcp-fake", daemon=True
        )
        self._thread.start()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def shutdown(self) -> None:
        """Stop serving (from any thread but the serving one) and free the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        """Forget every project, the call log and the pending switch."""
        self.store.reset()

    def calls(self) -> list[Call]:
        """Every Compute request answered since the start or the last clear, in order."""
        with self.store.lock:
            return list(self.store.call_log)

    def call_counts(self) -> Counter[str]:
        """Operation name (``regionBackendServices.insert``) -> how many times it was called."""
        return Counter(call.operation for call in self.calls())

    def clear_calls(self) -> None:
        with self.store.lock:
            self.store.call_log.clear()

    def set_pending_polls(self, polls: int) -> None:
        """Operations started from now on stay RUNNING for `polls` polls; 0 = DONE at once."""
        if polls < 0:
            raise ValueError("polls must be >= 0")
        with self.store.lock:
            self.store.pending_polls = polls

    def set_health(self, instance: str, state: str) -> None:
        """What getHealth reports for `instance` (link or ``projects/p/zones/z/instances/n``)."""
        self.store.set_health(instance, state)


@contextlib.contextmanager
def start(
    *, host: str = "127.0.0.1", port: int = 0, link_base: str = GOOGLE_BASE
) -> Iterator[FakeCompute]:
    """Serve a fresh fake on a background thread for the duration of the block."""
    fake = FakeCompute(host=host, port=port, link_base=link_base)
    fake.serve_in_background()
    try:
        yield fake
    finally:
        fake.shutdown()
