"""PDF and PNG are drawn by a renderer process that the service process starts the first time
it needs one (see worker.py). matplotlib, fpdf2 and the parsed CJK font then cost the renderer's
memory, not the service's, and while a document is drawn the service keeps answering: under
eventlet the pipes are green, so waiting for the answer lets other green threads run.

One document at a time (a lock). The renderer is started anew after RESTART_AFTER documents, so
its memory stays bounded, and after it dies, answers nonsense or takes longer than TIMEOUT: that
request fails with RendererFailed, the next one starts a new renderer. It ends with the service
process: it stops at the end of its input, and the pipe closes when the service exits, however
it exits; at a normal exit the service also waits for it (atexit)."""

import atexit
import json
import subprocess
import sys
import threading

import eventlet

from services.contracts.document import Document
from services.kit import processes

from .worker import FAILED, OK, read_frame, write_frame

RESTART_AFTER = 50
TIMEOUT = 120.0   # seconds for one document: a hung renderer must not hold every pull
COMMAND = [sys.executable, "-m", "services.reporting.render.worker"]


class RendererFailed(RuntimeError):
    """The renderer process could not draw the document."""


class Renderer:
    def __init__(self, restart_after: int = RESTART_AFTER, timeout: float = TIMEOUT):
        self.restart_after, self.timeout = restart_after, timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._renders = 0
        self._peak_of_stopped = 0.0
        atexit.register(self._at_exit)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def peak_rss_mb(self) -> float:
        """The highest peak memory of the renderers this process has run, the current one too."""
        pid = self.pid
        return max(self._peak_of_stopped, processes.peak_rss_mb(pid) if pid else 0.0)

    def render(self, document: Document, fmt: str) -> bytes:
        request = json.dumps({"fmt": fmt, "document": document.to_dict()},
                             ensure_ascii=False).encode()
        with self._lock:
            if self._process is not None and self._process.poll() is not None:
                self._kill()    # it died while idle: no request of ours was lost
            process = self._process or self._start()
            try:
                with eventlet.Timeout(self.timeout, TimeoutError(
                        f"no answer in {self.timeout:g} s")):
                    write_frame(process.stdin, request)
                    answer = read_frame(process.stdout)
                if answer is None or answer[:1] not in (OK, FAILED):
                    raise ValueError("no answer" if answer is None else "a garbled answer")
            except (OSError, ValueError, EOFError) as exc:
                self._kill()
                raise RendererFailed(f"the renderer process (pid {process.pid}) failed while "
                                     f"drawing {fmt}: {exc}; the next document starts a new "
                                     f"one") from exc
            self._renders += 1
            if self._renders >= self.restart_after:
                self._stop()
        if answer[:1] == FAILED:
            raise RendererFailed(f"the renderer could not draw {fmt}: "
                                 f"{answer[1:].decode(errors='replace')}")
        return answer[1:]

    def stop(self) -> None:
        """End the renderer, if one runs (the next document starts another)."""
        with self._lock:
            self._stop()

    def _at_exit(self) -> None:
        if self._lock.acquire(timeout=5):
            try:
                self._stop()
            finally:
                self._lock.release()
        else:    # a document still being drawn as the process ends
            self._kill()

    def _start(self) -> subprocess.Popen:
        # Looked up now, not at import: under eventlet, subprocess.Popen is the green one.
        self._process = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._renders = 0
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        self._peak_of_stopped = max(self._peak_of_stopped, processes.peak_rss_mb(process.pid))
        process.stdin.close()    # the end of its input: it exits
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        self._peak_of_stopped = max(self._peak_of_stopped, processes.peak_rss_mb(process.pid))
        process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            try:
                pipe.close()
            except OSError:
                pass    # a broken pipe's unflushed bytes


renderer = Renderer()
