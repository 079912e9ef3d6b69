"""Run untrusted generated code without letting it touch the host or the harness.

Each run is a fresh Python process started by ``unshare`` in new network, PID and mount
namespaces (no network at all, not even loopback; it sees only its own processes; and when
its first process ends the kernel kills every process it started, so nothing escapes, not
even children that started their own session). Inside, a small launcher — still root in the
new namespaces — mounts private ``tmpfs`` file systems over ``/tmp``, ``/var/tmp`` and
``/dev/shm`` (the run's own temporary directory, gone when the run ends), hides the home
directory behind an empty ``tmpfs`` (keeping only the Python installation visible, read-only),
mounts a fresh ``/proc``, sets CPU, address-space, file-size, open-file and process-count
limits, then drops to an unprivileged user (``nobody``) before running the program. Root
ignores ``RLIMIT_NPROC``; ``nobody`` does not. A hard wall-clock timeout kills the whole
process group; the namespace takes everything else with it.

Where namespaces are not available (``isolation == "process"``) the run still gets its own
session, the resource limits, an unprivileged user when started as root, a temporary
directory, and an audit hook refusing sockets and writes outside that directory — which a
determined program can get around (e.g. with ``ctypes``). :attr:`Sandbox.isolation` says
which one applies; results record it.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from llamapilot.errors import InputError

# The launcher runs inside the sandbox. It receives its settings as JSON in argv[1] and the
# program on stdin, prepares the namespaces' file systems, limits itself, drops privileges and
# runs the program in the same interpreter (saving a second interpreter start-up).
_LAUNCHER = r"""
import ctypes, json, os, resource, sys
cfg = json.loads(sys.argv[1])
code = sys.stdin.buffer.read()
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
if cfg["namespaces"]:
    libc = ctypes.CDLL(None, use_errno=True)
    def mount(src, tgt, fs, flags, data):
        r = libc.mount(src.encode() if src else None, tgt.encode(), fs.encode() if fs else None,
                       flags, data.encode() if data else None)
        if r != 0:
            e = ctypes.get_errno()
            raise OSError(e, "sandbox: mount %s: %s" % (tgt, os.strerror(e)))
    keep = [(p, os.open(p, os.O_PATH)) for p in cfg["keep"] if os.path.isdir(p)]
    for d in cfg["hide"]:
        if os.path.isdir(d):
            mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for p, fd in keep:
        os.makedirs(p, exist_ok=True)
        mount("/proc/self/fd/%d" % fd, p, None, MS_BIND | MS_REC, None)
        mount(None, p, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)
        os.close(fd)
    for d in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(d):
            mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV,
                  "size=%dm,mode=1777" % cfg["tmp_mb"])
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    work = "/tmp"
else:
    work = cfg["workdir"]
for name, value in cfg["limits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
if cfg["uid"] is not None:
    os.setgroups([])
    os.setgid(cfg["gid"])
    os.setuid(cfg["uid"])
os.chdir(work)
os.umask(0o077)
os.environ.clear()
os.environ.update({"HOME": work, "TMPDIR": work, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
if not cfg["namespaces"]:
    _root = os.path.realpath(work) + os.sep
    _WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    def _guard(event, args):
        if event.startswith("socket.") and event not in ("socket.gethostname",):
            raise PermissionError("sandbox: no network")
        if event == "open" and isinstance(args[0], str) and args[2] & _WRITE:
            if not os.path.realpath(args[0]).startswith(_root):
                raise PermissionError("sandbox: writes only inside the sandbox directory")
        if event in ("os.remove", "os.rmdir", "os.rename", "shutil.rmtree"):
            if not os.path.realpath(str(args[0])).startswith(_root):
                raise PermissionError("sandbox: changes only inside the sandbox directory")
    sys.addaudithook(_guard)
path = os.path.join(work, "program.py")
with open(path, "wb") as f:
    f.write(code)
sys.argv = [path]
sys.path[0] = work
del cfg, code, f, name, value
g = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__}
exec(compile(open(path, "rb").read(), path, "exec"), g)
"""


@dataclass
class SandboxResult:
    """How one run ended."""

    status: str
    """``passed`` (exit 0), ``failed`` (non-zero exit), ``timeout`` or ``error`` (harness)."""
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    isolation: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class Sandbox:
    """Runs Python programs in isolation; one instance may run many programs, one at a time
    or concurrently (every run has its own namespaces and directory)."""

    timeout: float = 10.0
    """Wall-clock seconds before the run is killed."""
    memory_mb: int = 1024
    """Address-space limit (``RLIMIT_AS``)."""
    file_mb: int = 16
    """Largest file the program may write (``RLIMIT_FSIZE``); also caps captured output."""
    tmp_mb: int = 64
    """Size of the private temporary file systems."""
    nproc: int = 32
    """Most processes and threads of the sandbox user (``RLIMIT_NPROC``)."""
    nofile: int = 64
    user: str = "nobody"
    """Unprivileged user to run as when started as root."""
    python: str = field(default_factory=lambda: sys.executable)
    output_limit: int = 64_000
    """Characters of stdout and stderr kept in results."""
    force_process_isolation: bool = False
    """Skip namespaces even where available (to test the fallback)."""
    _isolation: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.memory_mb < 64 or self.nproc < 1:
            raise InputError("sandbox limits must be positive (memory at least 64 MB)")

    # --- capability probe -------------------------------------------------------------------
    @property
    def isolation(self) -> str:
        """``namespace`` where ``unshare`` can make network, PID and mount namespaces here,
        else ``process``."""
        if self._isolation is None:
            self._isolation = "process"
            if not self.force_process_isolation and shutil.which("unshare"):
                try:
                    probe = subprocess.run(
                        [*self._unshare_cmd(), "true"],
                        stdin=subprocess.DEVNULL,
                        capture_output=True,
                        timeout=10,
                    )
                    if probe.returncode == 0:
                        self._isolation = "namespace"
                except (OSError, subprocess.SubprocessError):
                    pass
        return self._isolation

    def _unshare_cmd(self) -> list[str]:
        cmd = ["unshare", "--net", "--pid", "--mount", "--fork", "--kill-child=SIGKILL"]
        if os.geteuid() != 0:
            cmd.insert(1, "--map-root-user")  # implies a user namespace
        return cmd

    def _ids(self) -> tuple[int | None, int | None]:
        if os.geteuid() != 0:
            return None, None
        try:
            pw = pwd.getpwnam(self.user)
        except KeyError:
            raise InputError(f"sandbox user {self.user!r} does not exist") from None
        return pw.pw_uid, pw.pw_gid

    def _hidden(self) -> tuple[list[str], list[str]]:
        """Home directories to hide, and the Python directories under them to keep."""
        homes = {str(Path.home())}
        if os.environ.get("HOME"):
            homes.add(os.environ["HOME"])
        homes = {os.path.realpath(h) for h in homes if h and os.path.realpath(h) != "/"}
        wanted = {
            sys.prefix,
            sys.base_prefix,
            sys.exec_prefix,
            sys.base_exec_prefix,
            str(Path(os.path.realpath(self.python)).parent.parent),
        }
        keep = sorted(
            {
                os.path.realpath(p)
                for p in wanted
                if any(os.path.realpath(p).startswith(h + os.sep) for h in homes)
            }
        )
        return sorted(homes), keep

    # --- running ------------------------------------------------------------------------
    def run(self, code: str, *, timeout: float | None = None) -> SandboxResult:
        """Run ``code`` as a Python program; never raises for anything the program does."""
        limit = self.timeout if timeout is None else timeout
        isolation = self.isolation
        uid, gid = self._ids()
        workdir: str | None = None
        if isolation == "process":
            workdir = tempfile.mkdtemp(prefix="llamapilot-sandbox-")
            if uid is not None:
                os.chown(workdir, uid, gid)  # type: ignore[arg-type]
            os.chmod(workdir, 0o700)
        hide, keep = self._hidden()
        limits = {
            "RLIMIT_CPU": int(limit) + 1,
            "RLIMIT_AS": self.memory_mb << 20,
            "RLIMIT_FSIZE": self.file_mb << 20,
            "RLIMIT_NPROC": self.nproc,
            "RLIMIT_NOFILE": self.nofile,
            "RLIMIT_CORE": 0,
        }
        cfg = {
            "namespaces": isolation == "namespace",
            "hide": hide,
            "keep": keep,
            "tmp_mb": self.tmp_mb,
            "workdir": workdir,
            "limits": limits,
            "uid": uid,
            "gid": gid,
        }
        cmd = [self.python, "-I", "-S", "-c", _LAUNCHER, json.dumps(cfg)]
        if isolation == "namespace":
            cmd = [*self._unshare_cmd(), *cmd]
        t0 = time.monotonic()
        try:
            with (
                tempfile.TemporaryFile() as out,
                tempfile.TemporaryFile() as err,
            ):
                try:
                    proc = subprocess.Popen(
                        cmd,
                        stdin=subprocess.PIPE,
                        stdout=out,
                        stderr=err,
                        start_new_session=True,
                        close_fds=True,
                        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                    )
                except OSError as exc:
                    return SandboxResult("error", None, "", str(exc), 0.0, isolation)
                status = self._wait(proc, code.encode("utf-8"), limit, isolation == "namespace")
                duration = time.monotonic() - t0
                stdout, stderr = self._read(out), self._read(err)
        finally:
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
        rc = proc.returncode
        if status is None:
            status = "passed" if rc == 0 else "failed"
        return SandboxResult(status, rc, stdout, stderr, duration, isolation)

    def _wait(
        self, proc: subprocess.Popen[bytes], code: bytes, limit: float, namespace: bool
    ) -> str | None:
        deadline = time.monotonic() + limit
        try:
            assert proc.stdin is not None  # noqa: S101 - set by Popen(stdin=PIPE)
            try:
                proc.stdin.write(code)
                proc.stdin.close()
            except BrokenPipeError:
                pass
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            return None
        except subprocess.TimeoutExpired:
            return "timeout"
        finally:
            if proc.poll() is None and namespace:
                # Kill the program first, not unshare: unshare then collects it, and the
                # program — the namespace's init — only becomes collectable once the kernel
                # has killed and released everything it started. Killing unshare first would
                # leave the init's remains to the host's init to reap, later.
                for child in _children(proc.pid):
                    _kill(child)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
            # whatever is left in the group (process isolation has no namespace to empty)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def _read(self, f: object) -> str:
        f.seek(0)  # type: ignore[attr-defined]
        data = f.read(self.output_limit * 4)  # type: ignore[attr-defined]
        return data.decode("utf-8", "replace")[: self.output_limit]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
