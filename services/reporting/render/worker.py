"""The renderer process: PDF and PNG drawn away from the service (`remote.Renderer` runs it as
`python -m services.reporting.render.worker`), so that matplotlib, fpdf2 and the parsed CJK
font live here and the service's event loop keeps turning while a document is drawn.

One request at a time on stdin, one answer on stdout, each a frame: a 4-byte big-endian length,
then the body. A request is JSON {"fmt": "pdf" | "png", "document": document.to_dict()}; an
answer is OK and the file's bytes, or FAILED and the error's message. The process ends at the
end of its input: when the service closes the pipe, or when the service itself ends, however.
"""

import gc
import json
import os
import signal
import struct
import sys

from services.contracts.document import Document

HEADER = struct.Struct(">I")
OK, FAILED = b"\x00", b"\x01"
MAX_FRAME = 1 << 30    # a larger length can only be a garbled frame


def read_frame(stream) -> bytes | None:
    """The next frame's body; None at the end of the stream before a frame starts."""
    header = _read_exactly(stream, HEADER.size)
    if header is None:
        return None
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME:
        raise ValueError(f"a frame of {length} bytes")
    body = _read_exactly(stream, length)
    if body is None:
        raise EOFError("the stream ended inside a frame")
    return body


def _read_exactly(stream, size: int) -> bytes | None:
    # A green pipe's read returns what the pipe holds, not `size` bytes.
    chunks, got = [], 0
    while got < size:
        chunk = stream.read(size - got)
        if not chunk:
            if got:
                raise EOFError("the stream ended inside a frame")
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_frame(stream, body: bytes) -> None:
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


def _renderer(fmt: str):
    if fmt == "pdf":
        from .pdf import render_pdf
        return render_pdf
    if fmt == "png":
        from .charts import render_png
        return render_png
    raise ValueError(f"no renderer for {fmt}")


def answer(request: bytes) -> bytes:
    try:
        message = json.loads(request)
        return OK + _renderer(message["fmt"])(Document.from_dict(message["document"]))
    except Exception as exc:  # noqa: BLE001 - told to the service, which raises it
        return FAILED + f"{type(exc).__name__}: {exc}".encode()


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the service decides when this ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)    # a library's stray print goes to stderr, not into an answer
    requests = sys.stdin.buffer
    try:
        while (request := read_frame(requests)) is not None:
            write_frame(answers, answer(request))
            # A PDF's objects hold cycles: freed now, not while the next document is drawn.
            # What survives (modules, the parsed font) stays: frozen, later collections skip it.
            gc.collect()
            gc.freeze()
    except (BrokenPipeError, EOFError):
        os._exit(0)    # the service went away mid-request: nothing left to flush to


if __name__ == "__main__":
    main()
