"""SIGTERM to every service at once under load: each must finish its in-flight work and exit
by itself (nameko stops its entrypoints, lets the workers finish, and the kit acks only what
committed); then they are started again. Nothing lost, nothing counted twice."""

from ..drive import SIZES, drive, every

STOPS = 2            # times the whole system is stopped mid-stream
EXIT_TIMEOUT = 60.0  # s a process has to exit by itself


def run(size: str):
    due = every(max(SIZES[size].events // (STOPS + 1), 1))

    def harm(system, workload, published):
        if not due(published):
            return
        dead = [p for ps in system.processes.values() for p in ps]
        for name, status in system.terminate_all(timeout=EXIT_TIMEOUT).items():
            if status is None:
                workload.problems.append(f"{name} did not exit within {EXIT_TIMEOUT:.0f} s "
                                         f"of SIGTERM (killed)")
            elif status != 0:
                workload.problems.append(f"{name} exited with {status} after SIGTERM")
        for process in dead:
            system.restart(process, wait=False)
        system.wait_healthy()
    return drive("sigterm", size, harm)
