"""Multi-process serving: a supervisor forks ``Options.workers`` processes sharing its listening socket.

Each worker is a whole service (its HTTP server on the shared socket, its own broker clients,
so one member of the consumer group each) and stops gracefully on SIGTERM as a single
process does. The supervisor restarts a worker that dies; on SIGINT or SIGTERM it sends
SIGTERM to every worker, waits for them (killing those still running after the shutdown
timeout and a grace period) and exits 0 only if every worker did.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import Any

from .blueprint import Blueprint
from .errors import BootError
from .ops.peers import share_between_workers
from .options import Address, Options
from .runtime import Runtime
from .serve import Service, run_until_signal
from .servers.base import listen

log = logging.getLogger("spine")

FATAL = 2
"""A worker's exit code when it could not boot (wiring, address): the supervisor stops, it does not retry."""
KILL_GRACE = 5.0
"""Seconds after the shutdown timeout before the supervisor kills a worker that has not exited."""
RESTART_DELAY = 1.0
"""A worker that died within this many seconds of its start is restarted after this pause."""
STOP = (signal.SIGINT, signal.SIGTERM)

Wakeup = tuple[socket.socket, socket.socket, int, dict[signal.Signals, Any]]
"""The supervisor's signal plumbing, which a forked worker undoes first."""


def serve(app: Blueprint, options: Options) -> None:
    """Serve ``app`` until SIGINT or SIGTERM: in this process, or in ``options.workers`` processes."""
    if options.workers <= 1:
        run_until_signal([Service(Runtime(app, options))])
        return
    directory = tempfile.mkdtemp(prefix="spine-metrics-")  # the run's: the workers' metrics meet there
    share_between_workers(directory)
    try:
        code = Supervisor(app, options).run()
    finally:
        share_between_workers(None)
        shutil.rmtree(directory, ignore_errors=True)
    if code:
        raise SystemExit(code)


class Supervisor:
    """Forks the workers, restarts the ones that die, stops them all on a signal."""

    def __init__(self, app: Blueprint, options: Options) -> None:
        self.app = app
        self.options = options
        self.sock = listen(Address.parse(options.address)) if options.http is not None else None
        ops = options.ops.address
        self.ops_sock = listen(Address.parse(ops)) if ops is not None else None
        """The workers share the operations address too; a scrape there sums every worker (ops.peers)."""
        self.workers: dict[int, tuple[int, float]] = {}
        """pid -> (slot, started at)"""

    def run(self) -> int:
        """Run until every worker exited after a signal (or a worker failed to boot); the exit code."""
        receiver, sender = socket.socketpair()
        sender.setblocking(False)
        previous = signal.set_wakeup_fd(sender.fileno())
        handlers = {sig: signal.signal(sig, lambda signum, frame: None) for sig in (*STOP, signal.SIGCHLD)}
        wakeup: Wakeup = (receiver, sender, previous, handlers)
        code, kill_at = 0, None
        try:
            for slot in range(1, self.options.workers + 1):
                self._spawn(slot, wakeup)
            if self.sock is not None:
                host, port = self.sock.getsockname()[:2]
                log.info("%d workers listening on http://%s:%s", self.options.workers, host, port)
            while self.workers:
                receiver.settimeout(None if kill_at is None else max(0.0, kill_at - time.monotonic()))
                try:
                    signum = receiver.recv(1)[0]
                except TimeoutError:
                    self._kill_all()
                    kill_at = time.monotonic() + KILL_GRACE
                    continue
                if signum in STOP and kill_at is None:
                    log.info("%s received: stopping %d workers", signal.Signals(signum).name, len(self.workers))
                    kill_at = self._stop_all()
                for slot, exit_code, lived in self._reap():
                    if kill_at is not None:
                        code = code or int(exit_code != 0)
                    elif exit_code == FATAL:
                        log.error("worker %d could not start: stopping", slot)
                        code, kill_at = FATAL, self._stop_all()
                    else:
                        log.warning("worker %d exited with code %s: starting another", slot, exit_code)
                        if lived < RESTART_DELAY:
                            time.sleep(RESTART_DELAY)
                        self._spawn(slot, wakeup)
        finally:
            signal.set_wakeup_fd(previous)
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            receiver.close()
            sender.close()
            for sock in (self.sock, self.ops_sock):
                if sock is not None:
                    sock.close()
        log.info("stopped")
        return code

    def _spawn(self, slot: int, wakeup: Wakeup) -> None:
        supervisor = os.getpid()
        pid = os.fork()
        if pid:
            self.workers[pid] = (slot, time.monotonic())
            return
        # The worker: forget the supervisor's signal plumbing first, then serve as a single process does.
        receiver, sender, previous, handlers = wakeup
        signal.set_wakeup_fd(previous)
        for sig, handler in handlers.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        receiver.close()
        sender.close()
        os.setpgid(0, 0)  # a terminal's Ctrl-C reaches the supervisor only; it stops the workers
        _stop_with_parent(supervisor)
        code = 1
        try:
            run_until_signal([Service(Runtime(self.app, self.options), self.sock, self.ops_sock)],
                             ignore_repeats=True)
            code = 0
        except (BootError, OSError) as e:
            log.error("worker %d cannot start: %s", slot, e)
            code = FATAL
        except BaseException:
            log.exception("worker %d failed", slot)
        finally:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _stop_all(self) -> float:
        """SIGTERM to every worker; the time after which the ones left are killed."""
        for sock in (self.sock, self.ops_sock):
            if sock is not None:
                sock.close()  # the workers hold their own copies until they stop accepting
        for pid in self.workers:
            os.kill(pid, signal.SIGTERM)
        return time.monotonic() + self.options.shutdown_timeout + KILL_GRACE

    def _kill_all(self) -> None:
        for pid, (slot, _) in self.workers.items():
            log.error("worker %d still running after the shutdown timeout: killing it", slot)
            os.kill(pid, signal.SIGKILL)

    def _reap(self) -> list[tuple[int, int, float]]:
        """The workers that exited: (slot, exit code, seconds it lived)."""
        reaped = []
        while self.workers:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if not pid:
                break
            slot, started = self.workers.pop(pid)
            reaped.append((slot, os.waitstatus_to_exitcode(status), time.monotonic() - started))
        return reaped


PR_SET_PDEATHSIG = 1


def _stop_with_parent(supervisor: int) -> None:
    """Have the kernel send this worker SIGTERM if the supervisor dies (even by SIGKILL), so
    that no worker is left serving alone (Linux; elsewhere a no-op)."""
    import ctypes  # only in a forked worker: a single process does without it (~0.3 MB)

    libc = ctypes.CDLL(None)  # the process's own symbols, libc's among them
    if hasattr(libc, "prctl") and libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) == 0 and os.getppid() != supervisor:
        os.kill(os.getpid(), signal.SIGTERM)  # the supervisor died before the request took effect
