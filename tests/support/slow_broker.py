"""A door in front of the real RabbitMQ that is slow to open: for its first `silent` seconds
it takes connections and says nothing (a broker still starting, a handshake that times out),
then it passes bytes both ways. For the kit's patience at start."""

import socket
import threading
import time
from contextlib import contextmanager

from .broker import RABBIT_HOST


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def slow_broker(silent: float, port: int = 5672):
    """Yields the door's port; connections in the first `silent` seconds hang unanswered."""
    listener = socket.create_server(("127.0.0.1", 0))
    opens_at = time.monotonic() + silent
    held: list[socket.socket] = []
    closing = []

    def serve():
        while not closing:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if time.monotonic() < opens_at:
                held.append(client)   # silent: the client's handshake times out
                continue
            upstream = socket.create_connection((RABBIT_HOST, port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        closing.append(True)
        listener.close()
        for client in held:
            client.close()
