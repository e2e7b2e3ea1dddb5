"""Watching and stopping processes: their peak memory, their health, waiting for a condition,
SIGTERM then SIGKILL.
How each service starts is said once, outside the kit (services.cli.launch)."""

import signal
import subprocess
import time


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (Linux's VmHWM), in MB; 0 where unknown."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def wait_until(predicate, what: str, timeout: float = 10.0, interval: float = 0.05):
    """The predicate's first truthy value, asked every `interval` seconds; TimeoutError naming
    `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def stop(processes: dict[str, subprocess.Popen], timeout: float = 20.0) -> None:
    """SIGTERM (nameko lets in-flight workers finish), then SIGKILL what is left."""
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes.values():
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(services, amqp_uri: str, processes: dict | None = None,
                 timeout: float = 60.0) -> None:
    """Wait until every service answers its RPC health(); fail early if a process died."""
    from nameko.standalone.rpc import ClusterRpcProxy

    deadline = time.monotonic() + timeout
    pending = list(services)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=3) as rpc:
        while pending:
            for name, process in (processes or {}).items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode} while starting")
            service = pending[0]
            try:
                if getattr(rpc, service).health()["status"] == "ok":
                    pending.pop(0)
                    continue
            except Exception:  # noqa: BLE001 - not up yet
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service} did not become healthy in {timeout:.0f}s")
            time.sleep(0.3)
