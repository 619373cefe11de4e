"""A throwaway PostgreSQL primary and its streaming replica on this machine, for the replica tests.

The test server (127.0.0.1:5432) is shared and its pg_hba.conf has no ``replication`` line, so
a base backup of it is refused; and copying a shared server is not a test's business. Instead
a primary of our own is made with ``initdb`` on a free port, the test database's schema and rows
are copied into it (``pg_dump | psql``), and a hot standby is made of it with ``pg_basebackup -R``
(streaming replication, ``primary_conninfo`` written by ``-R``). Both listen on 127.0.0.1 only,
with their sockets in their own directory; ``stop`` ends both servers and removes everything.

PostgreSQL's server binaries refuse to run as root: as root they run as the ``postgres`` account
(``runuser``); otherwise as the current user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def server_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin directory with initdb, pg_ctl and pg_basebackup."""
    found = []
    for path in glob.glob("/usr/lib/postgresql/*/bin"):
        major = Path(path).parent.name
        if major.isdigit() and all(Path(path, b).exists() for b in ("initdb", "pg_ctl", "pg_basebackup")):
            found.append((int(major), Path(path)))
    if not found and shutil.which("initdb") and shutil.which("pg_basebackup"):
        return Path(shutil.which("initdb") or "").parent
    return max(found)[1] if found else None


def why_not() -> str | None:
    """None when a replica pair can be made here, else the reason."""
    if server_bindir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) on this machine"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing: PostgreSQL refuses to run as root"
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root with no postgres account: PostgreSQL refuses to run as root"
    for tool in ("pg_dump", "psql"):
        if shutil.which(tool) is None and not Path(server_bindir() or "", tool).exists():
            return f"{tool} is missing"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ReplicaPair:
    def __init__(self) -> None:
        bindir = server_bindir()
        assert bindir is not None
        self.bin = bindir
        self.root = Path(tempfile.mkdtemp(prefix="yiwang-replica-"))
        self.primary_dir = self.root / "primary"
        self.replica_dir = self.root / "replica"
        self.primary_port = free_port()
        self.replica_port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, user="postgres", group=None)
        self.running: list[Path] = []

    def _server_cmd(self, *args: str) -> list[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        return ["runuser", "-u", "postgres", "--", *cmd] if self.as_root else cmd

    def _run(self, *args: str) -> None:
        done = subprocess.run(self._server_cmd(*args), capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout}\n{done.stderr}")

    def _client(self, name: str) -> str:
        local = self.bin / name
        return str(local) if local.exists() else name

    def _start(self, data: Path, port: int) -> None:
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c wal_level=replica -c max_wal_senders=4 -c hot_standby=on "
            "-c shared_buffers=32MB -c max_connections=30"
        )
        self._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self.root / f"{data.name}.log"), "-w", "start"
        )
        self.running.append(data)

    def url(self, which: str, database: str) -> str:
        port = self.primary_port if which == "primary" else self.replica_port
        return f"postgres://postgres@127.0.0.1:{port}/{database}"

    def start(self, source_url: str, database: str) -> None:
        """A primary holding a copy of ``source_url``'s database as ``database``, and a replica."""
        self._run(
            "initdb", "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        self._start(self.primary_dir, self.primary_port)
        psql = self._client("psql")
        subprocess.run(
            [psql, self.url("primary", "postgres"), "-qc", f'CREATE DATABASE "{database}"'],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        dump = subprocess.Popen(
            [self._client("pg_dump"), "--no-owner", "--no-privileges", source_url],
            stdout=subprocess.PIPE,
        )
        load = subprocess.run(
            [psql, "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", self.url("primary", database)],
            stdin=dump.stdout, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert dump.stdout is not None
        dump.stdout.close()
        if dump.wait(timeout=120) != 0 or load.returncode != 0:
            raise RuntimeError(f"copying the test database failed: {load.stderr[-2000:]}")
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
            "-D", str(self.replica_dir), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
        )  # fmt: skip
        self._start(self.replica_dir, self.replica_port)

    def stop_replica(self) -> None:
        if self.replica_dir in self.running:
            self._run("pg_ctl", "-D", str(self.replica_dir), "-m", "immediate", "-w", "stop")
            self.running.remove(self.replica_dir)

    def stop_replica_cmd(self) -> list[str]:
        """The command that stops the replica, for a process the test starts."""
        return self._server_cmd("pg_ctl", "-D", str(self.replica_dir), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        for data in list(reversed(self.running)):
            subprocess.run(
                self._server_cmd("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"),
                capture_output=True, timeout=60,
            )  # fmt: skip
            self.running.remove(data)
        # A server stopped by another process (stop_replica_cmd) leaves no postmaster behind.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            (d / "postmaster.pid").exists() for d in (self.primary_dir, self.replica_dir)
        ):
            time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        parts = []
        for name in ("primary.log", "replica.log"):
            path = self.root / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text()[-3000:]}")
        return "\n".join(parts)
