"""Test-only network helpers: free ports, a TCP forwarder that can be stopped and
restarted (a dependency going away and coming back), and a server that accepts
connections but never answers (a hung dependency)."""

import contextlib
import socket
import threading


def free_port() -> int:
    """Return a local TCP port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listen(port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Restarting on the same port must not trip over connections in TIME_WAIT.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    listener.settimeout(0.05)
    return listener


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class TcpProxy:
    """Forward 127.0.0.1:``port`` to ``target``. :meth:`stop` closes the listener
    and every forwarded connection, as a restarting server would; :meth:`start`
    listens on the same port again."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener = None
        self._acceptor = None
        self._sockets: set[socket.socket] = set()
        self._pumps: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> "TcpProxy":
        self._listener = _listen(self.port)
        self._acceptor = threading.Thread(
            target=self._accept, args=(self._listener,), daemon=True
        )
        self._acceptor.start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        self._acceptor.join(5)
        listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
            pumps, self._pumps = self._pumps, []
        for sock in sockets:
            _close(sock)
        for pump in pumps:
            pump.join(5)

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            pumps = [
                threading.Thread(target=self._pump, args=(a, b), daemon=True)
                for a, b in ((client, upstream), (upstream, client))
            ]
            with self._lock:
                self._sockets.update((client, upstream))
                self._pumps.extend(pumps)
            for pump in pumps:
                pump.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        # One side is gone: end both, as a dying server would.
        with self._lock:
            self._sockets.discard(source)
            self._sockets.discard(sink)
        _close(source)
        _close(sink)


class Blackhole:
    """A server that accepts TCP connections and never sends a byte."""

    def __init__(self):
        self._listener = _listen(0)
        self.port = self._listener.getsockname()[1]
        self._accepted: list[socket.socket] = []
        self._running = True
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> "Blackhole":
        self._acceptor.start()
        return self

    def __exit__(self, *exc) -> None:
        self._running = False
        self._acceptor.join(5)
        self._listener.close()
        for sock in self._accepted:
            _close(sock)

    def _accept(self) -> None:
        while self._running:
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted.append(sock)
