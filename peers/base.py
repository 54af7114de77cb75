"""What every peer shares: a server on a loopback address, started in the background and stopped by its starter.

A peer subclasses `LoopbackPeer` and supplies two hooks: `_serve` binds (port 0 unless the peer was asked
for one), starts serving in the background and returns the bound port; `_shutdown` stops serving and
releases the port, and copes with a `_serve` that failed halfway. The base does the rest::

    with SomePeer().start() as peer:  # or `with SomePeer() as peer:`
        talk_to(peer.url)

`start` returns the peer (starting a started peer does nothing), `stop` may be called any number of times,
and a stopped peer can be started again (on a new port). `port` raises before the first start and keeps the
last port after a stop, so that a test can check nothing listens there any more. Threads started with
`_in_thread` are daemons, joined by `stop` once `_shutdown` returns.
"""

from __future__ import annotations

import abc
import ipaddress
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, Self

LOOPBACK = "127.0.0.1"


class _ServesForever(Protocol):
    """A `socketserver`-style server: ``serve_forever`` until another thread calls ``shutdown``."""

    def serve_forever(self, poll_interval: float = ...) -> None: ...


def _loopback(host: str) -> str:
    """`host` if it is an IPv4 loopback address (127.0.0.0/8); a peer never listens anywhere else."""
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(f"a peer listens on an IPv4 loopback address (127.0.0.0/8), not {host!r}")
    return host


class LoopbackPeer(abc.ABC):
    """A server on a loopback address in the background; see the module docstring."""

    #: The scheme of `url`.
    scheme: ClassVar[str] = "http"
    #: How long `stop` waits for each background thread.
    join_timeout: ClassVar[float] = 5.0

    def __init__(self, host: str = LOOPBACK) -> None:
        self.host = _loopback(host)
        self._port: int | None = None  # the bound port, kept after stop
        self._running = False
        self._threads: list[threading.Thread] = []

    # -- hooks ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def _serve(self) -> int:
        """Bind on `host`, start serving in the background, return the bound port."""

    @abc.abstractmethod
    def _shutdown(self) -> None:
        """Stop serving and release the port (after a `_serve` that worked, or one that failed halfway)."""

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> Self:
        """Serve in the background; returns self once the port is bound."""
        if self._running:
            return self
        self._running = True
        self._port = None
        try:
            self._port = self._serve()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice, or before `start`."""
        if not self._running:
            return
        self._running = False
        try:
            self._shutdown()
        finally:
            threads, self._threads = self._threads, []
            for thread in threads:
                thread.join(timeout=self.join_timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def port(self) -> int:
        """The bound port: after `start` (and, once stopped, the port it had)."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)``."""
        return (self.host, self.port)

    @property
    def url(self) -> str:
        """``scheme://host:port``."""
        return f"{self.scheme}://{self.host}:{self.port}"

    def serve_until_interrupted(self, say: Callable[[Self], str]) -> None:
        """Manual use (``python -m peers.aws``...): start, print ``say(self)``, serve until Ctrl-C, stop."""
        with self:
            sys.stdout.write(f"{say(self)}; Ctrl-C to stop\n")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass

    # -- for subclasses ------------------------------------------------------------------------------
    def _in_thread(self, target: Callable[..., object], name: str, **kwargs: Any) -> threading.Thread:
        """Run ``target(**kwargs)`` in a daemon thread that `stop` joins."""
        thread = threading.Thread(target=target, kwargs=kwargs, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()
        return thread

    def _serve_forever(self, server: _ServesForever, name: str) -> None:
        """Run a `socketserver`-style server's ``serve_forever`` in a thread; its ``shutdown`` ends it."""
        self._in_thread(server.serve_forever, name, poll_interval=0.05)


__all__ = ["LOOPBACK", "LoopbackPeer"]
