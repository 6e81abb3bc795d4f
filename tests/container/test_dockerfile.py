"""Build the project's Dockerfile with buildah and start the image.

No Docker engine and no container registry are needed: the base image is made
from Debian packages with debootstrap (the rootfs tarball is cached), the
Dockerfile is built with `buildah bud --isolation chroot` on the vfs storage
driver, and the image's command runs with `buildah run` on the host network.

Needs root, `buildah` and `debootstrap`, plus access to a Debian mirror and PyPI.
Without them the test skips, unless LOTSENBUCH_REQUIRE_CONTAINER=1 makes it fail.
LOTSENBUCH_CONTAINER_CACHE names the cache directory (default
~/.cache/lotsenbuch-container).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILDAH = ["buildah", "--storage-driver", "vfs"]
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
IMAGE = "localhost/lotsenbuch-test:ci"
CONTAINER_PREFIX = "lotsenbuch-ci-"  # working containers are named lotsenbuch-ci-<pid>-<n>
USER_ID = 10001

BASE_DOCKERFILE = f"""\
FROM scratch
ADD rootfs.tar /
COPY ca-certificates.crt {HOST_CA_BUNDLE}
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    LANG=C.UTF-8 \\
    PIP_CERT={HOST_CA_BUNDLE} \\
    SSL_CERT_FILE={HOST_CA_BUNDLE}
CMD ["python3"]
"""


@pytest.mark.container
def test_dockerfile_builds_and_serves(tmp_path: Path) -> None:
    _require_tools()
    with _terminate_as_interrupt(), _exclusive(_cache_dir() / "lock"):
        _remove_leftovers()
        _build_and_serve(tmp_path)


def _build_and_serve(tmp_path: Path) -> None:
    base_image = _base_image(tmp_path)
    _build_image(base_image, REPO_ROOT)

    config = _image_config(IMAGE)
    assert config.get("User") == "lotsenbuch", config.get("User")
    assert "/data" in (config.get("Volumes") or {}), config.get("Volumes")
    healthcheck = (config.get("Healthcheck") or {}).get("Test") or []
    assert healthcheck[:1] == ["CMD"] and "http://127.0.0.1:8000/healthz" in " ".join(healthcheck), healthcheck
    assert "LOTSENBUCH_DATA_DIR=/data" in config.get("Env", []), config.get("Env")
    assert "8000/tcp" in (config.get("ExposedPorts") or {}), config.get("ExposedPorts")
    command = config.get("Cmd") or []
    assert command[:2] == ["sh", "-c"] and "lotsenbuch migrate && exec lotsenbuch serve" in command[2], command

    container = _run(
        [*BUILDAH, "from", "--pull=never", "--name", f"{CONTAINER_PREFIX}{os.getpid()}-{time.monotonic_ns()}", IMAGE],
        timeout=600,
    ).stdout.strip().splitlines()[-1]
    server: subprocess.Popen[bytes] | None = None
    log_path = tmp_path / "server.log"
    try:
        identity = _run(_in_container(container, "id -u; id -un; stat -c %u /data"), timeout=120).stdout.split()
        assert identity == [str(USER_ID), "lotsenbuch", str(USER_ID)], identity

        port = _free_port()
        # The image's own command, on a free port and the loopback address (the host network is shared).
        serve = command[2].replace("--host 0.0.0.0 --port 8000", f"--host 127.0.0.1 --port {port}")
        assert serve != command[2], serve
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                _in_container(container, serve), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        body = _wait_for_health(f"http://127.0.0.1:{port}/healthz", server, log_path, timeout=120)
        assert body == {"status": "ok", "database": "reachable"}, body

        # The server process itself (chroot isolation shares the host's PID namespace) is not root.
        uids = _server_uids(server.pid)
        assert uids and set(uids) == {USER_ID}, (uids, log_path.read_text(errors="replace"))

        # The image's HEALTHCHECK command works inside the image, pointed at the test port.
        probe = [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in healthcheck[1:]]
        _run([*BUILDAH, "run", "--isolation", "chroot", "--network", "host", container, "--", *probe], timeout=120)

        files = _run(_in_container(container, "ls /data"), timeout=120).stdout.split()
        assert "lotsenbuch.sqlite3" in files and "secret_key" in files, files
        print(f"\nThe image served /healthz on port {port} as uid {USER_ID}: {body}")
    finally:
        if server is not None:
            _stop(server)
        _run([*BUILDAH, "rm", container], timeout=300, check=False)


# --- prerequisites ---------------------------------------------------------------------------------------------


def _require_tools() -> None:
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    reasons = []
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        reasons.append(f"{' and '.join(missing)} {verb} not on PATH (apt-get install buildah debootstrap)")
    if os.geteuid() != 0:
        reasons.append("it must run as root (debootstrap, buildah's chroot isolation)")
    if not reasons:
        return
    reason = "The container test cannot run: " + "; ".join(reasons)
    if os.environ.get("LOTSENBUCH_REQUIRE_CONTAINER") == "1":
        pytest.fail(reason + " (LOTSENBUCH_REQUIRE_CONTAINER=1 forbids skipping)", pytrace=False)
    pytest.skip(reason)


def _cache_dir() -> Path:
    cache = Path(os.environ.get("LOTSENBUCH_CONTAINER_CACHE") or Path.home() / ".cache" / "lotsenbuch-container")
    cache.mkdir(parents=True, exist_ok=True)
    return cache


@contextlib.contextmanager
def _exclusive(lock_path: Path, timeout: float = 3600) -> Iterator[None]:
    """Serialise concurrent runs: they share the rootfs cache, the image tag and buildah's storage."""
    with lock_path.open("a") as lock:
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced:
                    print(f"\nWaiting for another container test run to finish (lock {lock_path})")
                    announced = True
                if time.monotonic() > deadline:
                    pytest.fail(f"Another run held {lock_path} for more than {timeout:.0f} s.", pytrace=False)
                time.sleep(2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (e.g. from `timeout`) into KeyboardInterrupt so that the clean-up below still runs."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_leftovers() -> None:
    """Remove work directories and working containers of earlier runs that were killed before cleaning up."""
    for work in _cache_dir().glob("work-*-*"):
        pid = work.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            _unmount_below(work / "rootfs")
            shutil.rmtree(work, ignore_errors=True)
    listing = _run([*BUILDAH, "containers", "--format", "{{.ContainerName}}"], timeout=120, check=False).stdout
    for name in listing.split():
        pid = name[len(CONTAINER_PREFIX):].split("-", 1)[0]
        if name.startswith(CONTAINER_PREFIX) and pid.isdigit() and not _alive(int(pid)):
            _run([*BUILDAH, "rm", name], timeout=300, check=False)


# --- the base image from Debian packages ----------------------------------------------------------------------


def _base_image(tmp_path: Path) -> str:
    """Build (or reuse) a Debian base image with python3 from a cached debootstrap rootfs."""
    command, key = _debootstrap_command()
    ca_bundle = HOST_CA_BUNDLE.read_bytes()
    tag = hashlib.sha256(key.encode() + b"\0" + BASE_DOCKERFILE.encode() + b"\0" + ca_bundle).hexdigest()[:16]
    image = f"localhost/lotsenbuch-base:{tag}"
    if _run([*BUILDAH, "inspect", "--type", "image", image], timeout=120, check=False).returncode == 0:
        print(f"\nReusing base image {image}")
        return image

    tarball = _rootfs_tarball(command, key)
    context = tmp_path / "base-context"
    context.mkdir()
    try:
        os.link(tarball, context / "rootfs.tar")
    except OSError:
        shutil.copyfile(tarball, context / "rootfs.tar")
    # The host's CA bundle, so that pip inside the build trusts whatever certificate PyPI is reached with here.
    (context / "ca-certificates.crt").write_bytes(ca_bundle)
    (context / "Dockerfile").write_text(BASE_DOCKERFILE)
    started = time.monotonic()
    _run(
        [*BUILDAH, "bud", "--pull=never", "--isolation", "chroot", "--format", "docker",
         "-t", image, "-f", str(context / "Dockerfile"), str(context)],
        timeout=1200,
    )
    print(f"\nBuilt base image {image} in {time.monotonic() - started:.0f} s")
    return image


def _debootstrap_command() -> tuple[list[str], str]:
    """The debootstrap command line (target directory ROOTFS) and the cache key made from it."""
    command = ["debootstrap", "--variant=minbase", "--include=python3,python3-venv,python3-pip", SUITE, "ROOTFS",
               _debian_mirror()]
    return command, hashlib.sha256(shlex.join(command).encode()).hexdigest()[:16]


def _rootfs_tarball(command: list[str], key: str) -> Path:
    cache = _cache_dir()
    tarball = cache / f"rootfs-{SUITE}-{key}.tar"
    if tarball.exists():
        print(f"\nUsing cached rootfs {tarball}")
        return tarball

    work = cache / f"work-{key}-{os.getpid()}"
    rootfs = work / "rootfs"
    work.mkdir()
    started = time.monotonic()
    try:
        print(f"\nRunning {shlex.join(command)} (ROOTFS={rootfs}); this takes a few minutes")
        _run([str(rootfs) if part == "ROOTFS" else part for part in command], timeout=3600)
        partial = work / "rootfs.tar"
        _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."], timeout=1200)
        os.replace(partial, tarball)
    finally:
        _unmount_below(rootfs)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nCached {tarball} after {time.monotonic() - started:.0f} s")
    return tarball


def _debian_mirror() -> str:
    """The Debian mirror this machine's apt uses, so that debootstrap works where only it is reachable."""
    entries: list[tuple[str, list[str]]] = []  # (uri, suites) of every enabled `deb` source
    sources = Path("/etc/apt/sources.list")
    parts = Path("/etc/apt/sources.list.d")
    one_line = [sources] if sources.is_file() else []
    one_line += sorted(parts.glob("*.list")) if parts.is_dir() else []
    for path in one_line:
        for line in path.read_text(errors="replace").splitlines():
            words = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
            if len(words) >= 3 and words[0] == "deb":
                entries.append((words[1], [words[2]]))
    for path in sorted(parts.glob("*.sources")) if parts.is_dir() else []:
        for stanza in re.split(r"\n\s*\n", path.read_text(errors="replace")):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[:1].isspace():
                    continue
                name, value = line.split(":", 1)
                fields[name.strip().lower()] = value.strip()
            if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes").lower() != "no":
                suites = fields.get("suites", "").split()
                entries.extend((uri, suites) for uri in fields.get("uris", "").split())
    candidates = [uri for uri, suites in entries if SUITE in suites]
    candidates += [uri for uri, _ in entries if uri.rstrip("/").endswith("/debian")]
    for uri in candidates:
        if uri.startswith(("http://", "https://")):
            return uri.rstrip("/")
    return DEFAULT_MIRROR


def _unmount_below(path: Path) -> None:
    """Lazily unmount anything a failed debootstrap left mounted inside the rootfs."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    prefix = str(path.resolve()) + "/"
    points = [line.split()[1].replace("\\040", " ") for line in mounts if len(line.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True, timeout=60)


# --- the project's image ----------------------------------------------------------------------------------------


def _build_image(base_image: str, context: Path) -> None:
    # Drop the previous test image first so that repeated runs do not pile up untagged copies in vfs storage.
    _run([*BUILDAH, "rmi", IMAGE], timeout=300, check=False)
    started = time.monotonic()
    _run(
        [*BUILDAH, "bud", "--pull=never", "--isolation", "chroot", "--format", "docker",
         "--build-arg", f"BASE_IMAGE={base_image}", "-t", IMAGE,
         "-f", str(context / "Dockerfile"), str(context)],
        timeout=3600,
    )
    print(f"\nBuilt {IMAGE} in {time.monotonic() - started:.0f} s")


def _image_config(image: str) -> dict:
    inspected = json.loads(_run([*BUILDAH, "inspect", "--type", "image", image], timeout=120).stdout)
    return inspected["Docker"]["config"]


def _in_container(container: str, script: str) -> list[str]:
    return [*BUILDAH, "run", "--isolation", "chroot", "--network", "host", container, "--", "sh", "-c", script]


# --- the running server -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_health(url: str, server: subprocess.Popen[bytes], log_path: Path, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"The container exited with {server.returncode} before {url} answered:\n"
                        + log_path.read_text(errors="replace"), pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return json.loads(response.read())
                last = f"status {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"status {exc.code}: {exc.read()[:500]!r}"
            exc.close()
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = repr(exc)
        time.sleep(1)
    pytest.fail(f"{url} did not answer 200 within {timeout:.0f} s (last: {last}); container output:\n"
                + log_path.read_text(errors="replace"), pytrace=False)


def _server_uids(group: int) -> list[int]:
    """Real uids of the `lotsenbuch serve` processes in the given process group."""
    uids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            pgid = os.getpgid(int(proc.name))
            status = (proc / "status").read_text()
        except (OSError, ProcessLookupError):
            continue
        if pgid == group and b"serve" in cmdline and any(part.endswith(b"/lotsenbuch") for part in cmdline):
            uids.append(int(re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE).group(1)))
    return uids


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop `buildah run` and everything it started (they share the process group of the new session)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 20)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:  # stragglers that outlived buildah itself
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait(timeout=30)


# --- running commands -------------------------------------------------------------------------------------------


def _run(command: list[str], timeout: float, check: bool = True) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, errors="replace"
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"Timed out after {timeout:.0f} s: {shlex.join(command)}\n{_output(exc.stdout, exc.stderr)}",
                    pytrace=False)
    if check and result.returncode != 0:
        pytest.fail(f"Exit status {result.returncode} after {time.monotonic() - started:.0f} s: {shlex.join(command)}\n"
                    + _output(result.stdout, result.stderr), pytrace=False)
    return result


def _output(stdout: str | bytes | None, stderr: str | bytes | None, lines: int = 80) -> str:
    def tail(text: str | bytes | None) -> str:
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        return "\n".join((text or "").splitlines()[-lines:])

    return f"--- stdout (last {lines} lines) ---\n{tail(stdout)}\n--- stderr (last {lines} lines) ---\n{tail(stderr)}"
