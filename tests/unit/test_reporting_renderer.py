"""PDF and PNG drawn in the renderer process: the same bytes as drawn in-process, the service's
green threads running while a document is drawn, a failure told and survived, the renderer
started anew after its quota of documents, and gone when the service process is gone."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import eventlet
import pytest

from services.contracts.document import Chart, Document
from services.reporting import store
from services.reporting.render import render
from services.reporting.render.charts import render_png
from services.reporting.render.pdf import render_pdf
from services.reporting.render.remote import Renderer, RendererFailed, renderer
from services.reporting.reports import REPORTS
from tests.support.districts import district_session, uid
from tests.support.documents import a_long_document
from tests.support.waiting import wait_until

PARAMS = {"class-record": {"class_id": uid("K1")}, "class-plan": {"class_id": uid("K1")},
          "personal-archive": {"member_no": "S11"}}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    yield from district_session(tmp_path_factory, "renderer")


def document(db, name) -> Document:
    spec, params = store.resolve(name, PARAMS.get(name, {"year": 2026}), "json")
    return spec.layout(spec.build(db, params, None))


def undated(pdf: bytes) -> bytes:
    """fpdf2 writes the time of writing, and a file ID hashed from it."""
    return re.sub(rb"/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"/ID []",
                  re.sub(rb"D:\d{14}[Z+\-0-9']*", b"D:", pdf))


def status(pid: int) -> str | None:
    """A process's state letter (R, S, Z…); None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as lines:
            return next(line.split()[1] for line in lines if line.startswith("State:"))
    except OSError:
        return None


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    """Gone, or a zombie: its parent is gone too and nobody has reaped it yet (not for a child
    of this process: a zombie leader may wait for its other threads before it can be reaped)."""
    deadline = time.monotonic() + timeout
    while status(pid) not in (None, "Z"):
        assert time.monotonic() < deadline, f"process {pid} still {status(pid)}"
        time.sleep(0.05)


def test_every_reports_document_survives_the_trip_to_the_renderer_as_json(db):
    for name in REPORTS:
        doc = document(db, name)
        assert Document.from_dict(json.loads(json.dumps(doc.to_dict()))) == doc, name


def test_the_renderer_draws_the_same_pdf_and_png_as_drawn_in_process(db):
    summary = document(db, "annual-summary")
    assert summary.charts
    assert render(summary, "png") == render_png(summary)
    assert undated(render(summary, "pdf")) == undated(render_pdf(summary))
    record = document(db, "class-record")
    assert undated(render(record, "pdf")) == undated(render_pdf(record))
    assert renderer.pid is not None and renderer.pid != os.getpid()


def test_green_threads_run_while_the_renderer_draws(db):
    render(a_long_document(10), "pdf")    # the renderer started: its start-up is not timed
    ticks = []

    def tick():
        while True:
            ticks.append(time.monotonic())
            eventlet.sleep(0.02)

    ticker = eventlet.spawn(tick)
    try:
        started = time.monotonic()
        render(a_long_document(), "pdf")
        finished = time.monotonic()
    finally:
        ticker.kill()
    during = [t for t in ticks if started < t < finished]
    assert finished - started > 0.2
    # Were the wait blocking, the ticker would not have run at all until the answer came.
    assert len(during) >= (finished - started) / 0.02 / 3, (len(during), finished - started)


def test_a_document_the_renderer_cannot_draw_fails_with_its_message_and_it_keeps_running():
    render(a_long_document(1), "png")
    pid = renderer.pid
    crooked = Document("图", charts=[Chart("坏图", ["甲", "乙"], {"系列": [1.0, 2.0, 3.0]})])
    with pytest.raises(RendererFailed, match="could not draw png: .*shape"):
        render(crooked, "png")
    with pytest.raises(RendererFailed, match="no renderer for gif"):
        renderer.render(crooked, "gif")
    assert renderer.pid == pid
    assert render(a_long_document(1), "pdf").startswith(b"%PDF")


def test_a_renderer_that_died_while_idle_is_started_anew_for_the_next_document():
    own = Renderer()
    try:
        own.render(a_long_document(1), "png")
        dead = own.pid
        os.kill(dead, signal.SIGKILL)
        wait_until(lambda: own.pid is None, message="the renderer's death seen")
        assert own.render(a_long_document(1), "png").startswith(b"\x89PNG")
        assert own.pid not in (None, dead)
    finally:
        own.stop()


def fails_then_is_replaced(monkeypatch, own: Renderer, script: str, reason: str) -> None:
    """`own`, started as a process running `script`, fails its document for `reason`; the
    next document starts a real renderer."""
    from services.reporting.render import remote

    monkeypatch.setattr(remote, "COMMAND", [sys.executable, "-c", script])
    with pytest.raises(RendererFailed, match=reason):
        own.render(a_long_document(1), "pdf")
    assert own.pid is None
    monkeypatch.undo()
    own.timeout = 60.0   # a real renderer's start-up alone can take a second on a busy machine
    try:
        assert own.render(a_long_document(1), "pdf").startswith(b"%PDF")
    finally:
        own.stop()


def test_a_renderer_that_dies_while_drawing_fails_that_document_naming_it(monkeypatch):
    fails_then_is_replaced(
        monkeypatch, Renderer(), "import sys; sys.stdin.buffer.read(9); sys.exit(3)",
        r"renderer process \(pid \d+\) failed while drawing pdf: no answer")


def test_a_garbled_answer_fails_the_document_naming_the_renderer(monkeypatch):
    from services.reporting.render import remote

    own = Renderer()
    monkeypatch.setattr(remote, "COMMAND", [sys.executable, "-c",
                                            "import sys; sys.stdout.write('Traceback …' * 9)"])
    with pytest.raises(RendererFailed, match="renderer process .* failed while drawing pdf"):
        own.render(a_long_document(1), "pdf")
    assert own.pid is None


def test_the_renderer_is_started_anew_after_its_quota_of_documents():
    own = Renderer(restart_after=2)
    try:
        own.render(a_long_document(1), "png")
        first = own.pid
        own.render(a_long_document(1), "png")
        assert own.pid is None and status(first) is None    # stopped and waited for
        assert own.peak_rss_mb() > 50                       # its peak memory is kept
        own.render(a_long_document(1), "png")
        assert own.pid not in (None, first)
    finally:
        own.stop()
    assert own.pid is None


@pytest.mark.parametrize("end", ["exits", "is killed"])
def test_the_renderer_ends_with_the_service_process(end):
    service = subprocess.Popen([sys.executable, "-c", (
        "import sys\n"
        "from tests.support.documents import a_long_document\n"
        "from services.reporting.render import render\n"
        "from services.reporting.render.remote import renderer\n"
        "render(a_long_document(1), 'png')\n"
        "print(renderer.pid, flush=True)\n"
        "sys.stdin.read()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    worker = int(service.stdout.readline())
    assert status(worker) in ("S", "R")
    if end == "exits":
        service.stdin.close()    # its atexit waits for the renderer
        assert service.wait(20) == 0
        assert status(worker) is None
    else:
        service.kill()
        service.wait()
        wait_gone(worker)    # its pipe closed: the renderer saw the end of its input


def test_a_renderer_that_hangs_fails_the_document_in_time_and_is_replaced(monkeypatch):
    fails_then_is_replaced(monkeypatch, Renderer(timeout=1.0), "import time; time.sleep(60)",
                           r"failed while drawing pdf: no answer in 1 s")


def test_the_renderer_process_loads_none_of_the_services_libraries():
    """Its memory is matplotlib's, fpdf2's and the font's alone: the kit's light modules load
    without nameko, eventlet, SQLAlchemy or kombu."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys\n"
         "from services.reporting.render import charts, pdf, worker\n"
         "print(sorted(m for m in ('nameko', 'eventlet', 'sqlalchemy', 'kombu') "
         "if m in sys.modules))"],
        capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
