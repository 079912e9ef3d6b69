"""Hostile programs in the sandbox: each is stopped within its timeout + 1 s and leaves the
host, the harness and the file system as they were."""

from __future__ import annotations

import os
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest

from llamapilot.evals.sandbox import Sandbox

TIMEOUT = 2.0


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    sb = Sandbox(timeout=TIMEOUT)
    if sb.isolation != "namespace":
        pytest.skip("namespaces (unshare) are not available here")
    return sb


@pytest.fixture
def victim() -> Path:
    """A directory outside /tmp that the sandbox can see: a file to delete, a secret to read."""
    d = Path(tempfile.mkdtemp(prefix=".sandbox-victim-", dir=Path(__file__).parent))
    os.chmod(d, 0o755)
    (d / "keep.txt").write_text("precious\n")
    os.chmod(d / "keep.txt", 0o644)
    (d / "secret").write_text("s3cr3t-key\n")
    os.chmod(d / "secret", 0o600)
    yield d
    for p in d.iterdir():
        p.unlink()
    d.rmdir()


def sandbox_processes() -> list[str]:
    """Processes left running as the sandbox user (nobody) or with the trace marker."""
    uid = 65534
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{pid}")
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if st.st_uid == uid or "987654" in cmd:
            left.append(f"{pid} {cmd}")
    return left


def test_runs_a_program_and_captures_its_output(sandbox: Sandbox) -> None:
    r = sandbox.run(
        "import math, os\nprint(math.factorial(5))\nopen('x.txt','w').write('ok')\n"
        "print(open('x.txt').read(), os.getuid())"
    )
    assert r.passed, r.stderr
    assert r.stdout.split() == ["120", "ok", "65534"]
    assert sandbox.run("raise SystemExit(3)").returncode == 3


def test_infinite_loop_is_killed_at_the_timeout(sandbox: Sandbox) -> None:
    t0 = time.monotonic()
    r = sandbox.run("while True:\n    pass\n")
    assert r.status == "timeout"
    assert time.monotonic() - t0 < TIMEOUT + 1


def test_fork_bomb_is_contained(sandbox: Sandbox) -> None:
    t0 = time.monotonic()
    r = sandbox.run(
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    assert r.status == "timeout"
    assert time.monotonic() - t0 < TIMEOUT + 1
    assert sandbox_processes() == []
    assert sandbox.run("print('still fine')").stdout == "still fine\n"


def test_escaped_children_die_with_the_run(sandbox: Sandbox) -> None:
    code = (
        "import os\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.execv('/bin/sleep', ['sleep', '987654'])\n"
        "    os._exit(0)\n"
        "print('parent done')\n"
    )
    r = sandbox.run(code)
    assert r.stdout == "parent done\n"
    assert sandbox_processes() == []


def test_huge_allocation_fails_inside_the_sandbox(sandbox: Sandbox) -> None:
    t0 = time.monotonic()
    r = sandbox.run("x = bytearray(10 * 2**30)\n")
    assert r.status == "failed" and "MemoryError" in r.stderr
    assert time.monotonic() - t0 < TIMEOUT + 1


def test_no_changes_outside_its_directory(sandbox: Sandbox, victim: Path) -> None:
    code = f"""
import os, shutil
v = {str(victim)!r}
for attempt in (lambda: os.remove(v + '/keep.txt'),
                lambda: open(v + '/keep.txt', 'w').write('gone'),
                lambda: open(v + '/new.txt', 'w').write('x'),
                lambda: shutil.rmtree(v),
                lambda: os.chmod(v + '/keep.txt', 0o777),
                lambda: open('/etc/llamapilot-sandbox-test', 'w')):
    try:
        attempt()
        print('ALLOWED')
    except OSError as e:
        print(type(e).__name__)
open('/tmp/llamapilot-escape-test', 'w').write('x')  # its own private /tmp
"""
    r = sandbox.run(code)
    assert r.passed, r.stderr
    assert "ALLOWED" not in r.stdout
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt", "secret"]
    assert (victim / "keep.txt").read_text() == "precious\n"
    assert stat.S_IMODE((victim / "keep.txt").stat().st_mode) == 0o644
    assert not Path("/etc/llamapilot-sandbox-test").exists()
    assert not Path("/tmp/llamapilot-escape-test").exists()


def test_cannot_read_secrets(sandbox: Sandbox, victim: Path) -> None:
    code = f"""
import os
try:
    print(open({str(victim / "secret")!r}).read())
except OSError as e:
    print(type(e).__name__)
home = os.path.expanduser('~root')
print(sorted(os.listdir(home)) if os.path.isdir(home) else 'no home')
print(os.path.exists(home + '/.ssh'))
"""
    r = sandbox.run(code)
    assert "s3cr3t" not in r.stdout
    lines = r.stdout.splitlines()
    # denied, or not even visible when the checkout lies under /tmp (the sandbox's /tmp is
    # private)
    assert lines[0] in ("PermissionError", "FileNotFoundError")
    assert lines[-1] == "False"  # the home directory is an empty stand-in


def test_no_network(sandbox: Sandbox) -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.setblocking(False)
    port = srv.getsockname()[1]
    code = f"""
import socket
for addr in (('127.0.0.1', {port}), ('1.1.1.1', 53)):
    try:
        socket.create_connection(addr, timeout=1)
        print('CONNECTED')
    except OSError as e:
        print(e.errno)
"""
    try:
        r = sandbox.run(code)
        assert r.passed, r.stderr
        assert "CONNECTED" not in r.stdout
        with pytest.raises(BlockingIOError):
            srv.accept()  # nothing reached the host
    finally:
        srv.close()


@pytest.mark.slow
def test_200_runs_leave_no_processes_or_folders(sandbox: Sandbox) -> None:
    tmp = Path(tempfile.gettempdir())
    before = set(tmp.iterdir())
    children_before = _children()
    for i in range(200):
        r = sandbox.run(f"print({i})")
        assert r.stdout == f"{i}\n"
    assert set(tmp.iterdir()) - before == set()
    assert sandbox_processes() == []
    assert _children() == children_before


def _children() -> set[int]:
    me = str(os.getpid())
    out = set()
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and Path(f"/proc/{pid}/stat").read_text().split()[3] == me:
                out.add(int(pid))
        except OSError:
            continue
    return out


def test_process_isolation_fallback_still_limits(victim: Path) -> None:
    sb = Sandbox(timeout=TIMEOUT, force_process_isolation=True)
    assert sb.isolation == "process"
    t0 = time.monotonic()
    assert sb.run("while True:\n    pass\n").status == "timeout"
    assert time.monotonic() - t0 < TIMEOUT + 1
    r = sb.run(f"open({str(victim / 'keep.txt')!r}, 'w').write('gone')")
    assert r.status == "failed"
    assert (victim / "keep.txt").read_text() == "precious\n"
    before = {p.name for p in Path(tempfile.gettempdir()).glob("llamapilot-sandbox-*")}
    sb.run("print(1)")
    after = {p.name for p in Path(tempfile.gettempdir()).glob("llamapilot-sandbox-*")}
    assert after == before
