"""Starting and stopping an openddb server from Python: start() runs the
binary installed with this package (on a free port, in memory, by default)
and returns once it accepts requests, which the binary announces with the
line ``openddb listening on HOST:PORT``."""

from __future__ import annotations

import atexit
import collections
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path
from typing import Deque, Iterable, Mapping, Optional, Sequence, Union

_READY = re.compile(r"^openddb listening on (.+):(\d+)$")
_KEEP_LINES = 200
_EXE = "openddb.exe" if os.name == "nt" else "openddb"

__all__ = ["OpenddbError", "Server", "binary_path", "start"]


class OpenddbError(RuntimeError):
    """The server could not be found or did not start; ``output`` holds its
    last lines."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(f"{message}\n--- openddb output ---\n{output}" if output else message)
        self.output = output


def _scripts_dirs() -> Iterable[Path]:
    # The wheel installs the binary as a script (maturin's bin bindings):
    # into this interpreter's scheme (a venv's bin/, or the system's), or the
    # user scheme with `pip install --user`.
    yield Path(sysconfig.get_path("scripts"))
    try:
        user_scheme = sysconfig.get_preferred_scheme("user")  # Python 3.10+
    except AttributeError:
        user_scheme = f"{os.name}_user"
    try:
        yield Path(sysconfig.get_path("scripts", user_scheme))
    except KeyError:
        pass
    yield Path(sys.executable).parent


def binary_path() -> str:
    """The openddb executable: ``OPENDDB_BINARY_PATH`` if set, else the one
    this package installed, else the first ``openddb`` on the PATH."""
    override = os.environ.get("OPENDDB_BINARY_PATH")
    if override:
        if not Path(override).is_file():
            raise OpenddbError(f"OPENDDB_BINARY_PATH is set to {override}, which is not a file")
        return override
    for directory in _scripts_dirs():
        candidate = directory / _EXE
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("openddb")
    if found:
        return found
    raise OpenddbError(
        "cannot find the openddb binary: looked in "
        + ", ".join(str(d) for d in _scripts_dirs())
        + " and on the PATH; reinstall the openddb package or set OPENDDB_BINARY_PATH"
    )


class Server:
    """A running openddb server. ``endpoint`` is what an AWS SDK client
    takes as ``endpoint_url``. Use it as a context manager, or call
    ``stop()``; it is stopped when the interpreter exits at the latest."""

    def __init__(
        self,
        process: "subprocess.Popen[str]",
        host: str,
        port: int,
        scheme: str,
        output: Deque[str],
        reader: threading.Thread,
    ) -> None:
        self.process = process
        self.pid = process.pid
        self.host = host
        self.port = port
        shown = f"[{host}]" if ":" in host else host
        self.endpoint = f"{scheme}://{shown}:{port}"
        self._output = output
        self._reader = reader
        atexit.register(self._stop_at_exit)

    @property
    def output(self) -> str:
        """The server's last lines of output."""
        return "\n".join(list(self._output))

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 10.0) -> int:
        """SIGTERM (openddb finishes the requests in flight, then exits),
        SIGKILL if it is still there after ``grace`` seconds. Returns the
        exit status (negative: the signal that ended it)."""
        atexit.unregister(self._stop_at_exit)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        return self.process.returncode

    def _stop_at_exit(self) -> None:
        self.stop(grace=5.0)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else f"exited {self.process.returncode}"
        return f"<openddb.Server {self.endpoint} pid={self.pid} {state}>"


def _server_args(
    in_memory: bool, port: int, host: str, data_dir: Optional[Union[str, os.PathLike]], args: Sequence[str]
) -> list[str]:
    out = ["--port", str(port), "--host", host]
    if in_memory:
        out.append("--in-memory")
    elif data_dir is not None:
        out += ["--data-dir", os.fspath(data_dir)]
    return out + [str(a) for a in args]


def _endpoint_host(host: str) -> str:
    # A server on every interface is reached through loopback.
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


def start(
    in_memory: bool = True,
    port: int = 0,
    args: Sequence[str] = (),
    *,
    host: str = "127.0.0.1",
    data_dir: Optional[Union[str, os.PathLike]] = None,
    timeout: float = 30.0,
    binary: Optional[str] = None,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[Union[str, os.PathLike]] = None,
) -> Server:
    """Starts openddb and returns once it accepts requests.

    ``args`` are more openddb flags (``["--log-level", "warn"]``). With
    ``in_memory=False`` data lives in ``data_dir`` (openddb's default,
    ``./openddb-data``, if None). Raises OpenddbError, with the server's
    output, if it exits first or is not ready within ``timeout`` seconds.
    """
    executable = binary or binary_path()
    argv = [executable] + _server_args(in_memory, port, host, data_dir, args)
    scheme = "https" if any(re.fullmatch(r"--?tls-(cert|self-signed)", a) for a in argv) else "http"
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=None if env is None else dict(env),
            cwd=cwd,
        )
    except OSError as err:
        raise OpenddbError(f"cannot run {executable}: {err}") from err

    output: Deque[str] = collections.deque(maxlen=_KEEP_LINES)
    ready = threading.Event()
    address: list = []

    def read() -> None:
        # To the end, not just to the ready line: a full pipe would block
        # the server's logging.
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\r\n")
            output.append(line)
            if not address:
                match = _READY.match(line)
                if match:
                    address.append((match.group(1).strip("[]"), int(match.group(2))))
                    ready.set()
        ready.set()

    reader = threading.Thread(target=read, name=f"openddb-{process.pid}-output", daemon=True)
    reader.start()

    if not ready.wait(timeout):
        process.kill()
        process.wait()
        reader.join(5)
        raise OpenddbError(
            f"openddb did not start within {timeout} s: {' '.join(argv)}", "\n".join(output)
        )
    if not address:
        code = process.wait()
        reader.join(5)
        raise OpenddbError(
            f"openddb exited before it was ready (status {code}): {' '.join(argv)}", "\n".join(output)
        )
    bound_host, bound_port = address[0]
    return Server(process, _endpoint_host(bound_host), bound_port, scheme, output, reader)
