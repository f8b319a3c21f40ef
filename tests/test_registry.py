"""The weights registry against a local HTTP server (127.0.0.1 only): good, corrupt, truncated and flaky
downloads, offline mode, the cache folder, explicit paths, and the ``hoirecon models`` commands."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hoirecon import registry
from hoirecon.cli.main import app
from hoirecon.errors import InputError, MissingModelError
from hoirecon.registry import WeightsEntry

runner = CliRunner()
PAYLOAD = os.urandom(200_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()
DEAD_URL = "http://127.0.0.1:9/never"  # the discard port: refused at once if a test ever reaches it


class _Server:
    """What the handler serves: ``mode`` per request (a list is consumed one item per request)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.modes: list[str] = []
        self.mode = "good"
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def next_mode(self) -> str:
        with self.lock:
            return self.modes.pop(0) if self.modes else self.mode


def _handler(state: _Server):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

        def do_GET(self):  # noqa: N802
            with state.lock:
                state.requests.append(self.path)
            mode = state.next_mode()
            body = state.files.get(self.path.rsplit("/", 1)[-1])
            if body is None or mode == "404":
                self.send_error(404, "Not Found")
                return
            if mode == "503":
                self.send_error(503, "Service Unavailable")
                return
            if mode == "wrong":
                body = bytes(b ^ 0xFF for b in body[:64]) + body[64:]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "slow":  # headers now, the body after a pause: downloads overlap
                time.sleep(1.0)
            if mode == "truncate":
                self.wfile.write(body[: len(body) // 3])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture
def server():
    state = _Server()
    state.files["test-weights.bin"] = PAYLOAD
    state.files["nohash.bin"] = PAYLOAD
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty hoirecon cache, online, tiny backoff and timeout, no proxy for 127.0.0.1."""
    root = tmp_path / "home"
    monkeypatch.setenv("HOIRECON_HOME", str(root))
    monkeypatch.delenv("HOIRECON_OFFLINE", raising=False)
    monkeypatch.delenv(registry.MIRROR_ENV, raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(registry, "BACKOFF_S", 0.01)
    monkeypatch.setattr(registry, "TIMEOUT_S", 5.0)
    return root


@pytest.fixture
def entry(server, home):
    e = WeightsEntry(name="test-weights", url=server.base + "test-weights.bin", filename="test-weights.bin",
                     sha256=SHA, size=len(PAYLOAD), licence="test", kind="test", description="200 KB of random bytes")  # fmt: skip
    with registry.registered(e):
        yield e


def _leftovers(home: Path) -> list[str]:
    """The cache folder's files, less the (empty, hidden) download locks, which stay by design."""
    d = home / "weights"
    locks = [p for p in d.glob(".*.lock")] if d.exists() else []
    assert all(p.stat().st_size == 0 for p in locks)
    return sorted(p.name for p in d.iterdir() if p not in locks) if d.exists() else []


# -- the built-in entries ----------------------------------------------------------------------------


def test_builtin_entries_are_complete_and_honest():
    ents = registry.entries()
    assert {"yolo11n-seg", "yolo11s-seg", "sam_vit_b", "sam_vit_l", "sam_vit_h"} <= set(ents)
    for e in ents.values():
        assert e.url.startswith("https://") and e.url.endswith("/" + e.filename)
        assert e.kind in {"yolo", "sam"} and e.licence and e.description
    assert ents["sam_vit_b"].sha256 == "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912"
    assert ents["sam_vit_b"].size == 375042383 and "Apache-2.0" in ents["sam_vit_b"].licence
    assert "AGPL-3.0" in ents["yolo11n-seg"].licence
    assert ents["yolo11n-seg"].url == "https://github.com/ultralytics/assets/releases/download/v8.3.0/yolo11n-seg.pt"
    assert ents["yolo11n-seg"].sha256 is None  # not known with confidence: recorded at download instead


def test_entry_validation_and_unknown_name():
    with pytest.raises(ValueError):
        WeightsEntry(name="x", url="http://h/x", filename="../x")
    with pytest.raises(ValueError):
        WeightsEntry(name="x", url="http://h/x", filename="x", sha256="abc")
    with pytest.raises(InputError, match="unknown weights 'nope'"):
        registry.resolve("nope")


def test_registered_restores_previous_entries():
    e = WeightsEntry(name="tmp-entry", url=DEAD_URL, filename="tmp.bin")
    with registry.registered(e):
        assert registry.entries()["tmp-entry"] == e
    assert "tmp-entry" not in registry.entries()


# -- downloads ---------------------------------------------------------------------------------------


def test_good_download_lands_in_the_cache_then_is_reused(entry, server, home):
    seen = []
    p = registry.resolve("test-weights", progress=lambda done, total: seen.append((done, total)))
    assert p == home / "weights" / "test-weights.bin"
    assert p.read_bytes() == PAYLOAD
    assert _leftovers(home) == ["test-weights.bin"]  # no .part, no sidecar when the sha256 is known
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert registry.resolve("test-weights") == p
    assert len(server.requests) == 1
    assert registry.check("test-weights") == (entry.name, True, p, "ok")


def test_hash_mismatch_fails_and_leaves_nothing(entry, server, home):
    server.mode = "wrong"
    with pytest.raises(MissingModelError) as exc:
        registry.resolve("test-weights")
    msg = str(exc.value)
    assert "\n" not in msg and "sha256 mismatch" in msg and entry.url in msg
    assert str(home / "weights" / "test-weights.bin") in msg  # where to put it by hand
    assert _leftovers(home) == []
    assert len(server.requests) == 1  # a wrong file is not fetched again


def test_interrupted_download_is_retried_then_fails_cleanly(entry, server, home):
    server.mode = "truncate"
    with pytest.raises(MissingModelError, match=r"connection closed after 66666 of 200000 bytes \(3 attempts\)") as exc:
        registry.resolve("test-weights")
    assert "\n" not in str(exc.value)
    assert len(server.requests) == registry.ATTEMPTS == 3
    assert _leftovers(home) == []


def test_flaky_server_succeeds_on_a_later_attempt(entry, server, home):
    server.modes = ["503", "truncate"]
    p = registry.resolve("test-weights")
    assert p.read_bytes() == PAYLOAD and len(server.requests) == 3
    assert _leftovers(home) == ["test-weights.bin"]


def test_http_404_is_not_retried(entry, server, home):
    server.mode = "404"
    with pytest.raises(MissingModelError, match="HTTP 404"):
        registry.resolve("test-weights")
    assert len(server.requests) == 1 and _leftovers(home) == []


def test_offline_fails_fast_without_any_request(entry, server, home, monkeypatch):
    with pytest.raises(MissingModelError) as exc:
        registry.resolve("test-weights", offline=True)
    assert str(exc.value) == (
        f"test-weights: weights file test-weights.bin not in {home / 'weights'} (offline mode); "
        f"download {entry.url} and put it there, or pass its path"
    )
    monkeypatch.setenv("HOIRECON_OFFLINE", "1")
    with pytest.raises(MissingModelError, match="offline mode"):
        registry.resolve("test-weights")
    with pytest.raises(MissingModelError, match="offline mode"):
        registry.download("test-weights")
    assert server.requests == []
    # a cached file is fine offline
    (home / "weights").mkdir(parents=True)
    (home / "weights" / "test-weights.bin").write_bytes(PAYLOAD)
    assert registry.resolve("test-weights") == home / "weights" / "test-weights.bin"
    assert server.requests == []


def test_download_false_never_downloads(entry, server, home):
    with pytest.raises(MissingModelError, match="hoirecon models download test-weights"):
        registry.resolve("test-weights", download=False)
    assert server.requests == []


def test_hoirecon_home_decides_the_cache(entry, server, tmp_path, monkeypatch):
    other = tmp_path / "elsewhere"
    monkeypatch.setenv("HOIRECON_HOME", str(other))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    p = registry.resolve("test-weights")
    assert p == other / "weights" / "test-weights.bin" and p.is_file()
    assert not (tmp_path / "xdg").exists()


def test_explicit_path_wins(entry, server, home, tmp_path):
    mine = tmp_path / "mine.pt"
    mine.write_bytes(b"my own fine-tuned weights")
    assert registry.resolve("test-weights", mine) == mine.absolute()
    assert registry.resolve("test-weights", str(mine), offline=True) == mine.absolute()
    with pytest.raises(InputError, match="missing.pt"):
        registry.resolve("test-weights", tmp_path / "missing.pt")
    assert server.requests == [] and _leftovers(home) == []


def test_current_directory_is_never_written(entry, server, home, tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    server.mode = "truncate"
    with pytest.raises(MissingModelError):
        registry.resolve("test-weights")
    server.mode = "wrong"
    with pytest.raises(MissingModelError):
        registry.resolve("test-weights")
    server.mode = "good"
    registry.resolve("test-weights")
    assert list(cwd.iterdir()) == []


def test_corrupt_cached_file_is_an_error_and_download_replaces_it(entry, server, home):
    target = home / "weights" / "test-weights.bin"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x" * len(PAYLOAD))
    with pytest.raises(MissingModelError, match="corrupt.*delete it.*hoirecon models download test-weights"):
        registry.resolve("test-weights")
    assert registry.check("test-weights").hash == "mismatch"
    with pytest.raises(MissingModelError, match="corrupt"):
        registry.download("test-weights", offline=True)
    assert server.requests == []
    assert registry.download("test-weights") == target and target.read_bytes() == PAYLOAD


def test_unknown_sha256_is_recorded_in_a_sidecar(server, home):
    e = WeightsEntry(name="nohash", url=server.base + "nohash.bin", filename="nohash.bin", kind="test")
    with registry.registered(e):
        p = registry.resolve("nohash")
        sidecar = registry.sidecar_path(p)
        assert sidecar.read_text().split()[0] == SHA
        assert registry.check("nohash").hash == "recorded"
        p.write_bytes(PAYLOAD[:-1] + b"\0")
        os.utime(p, ns=(1, 1))  # another mtime: the hash is computed again
        with pytest.raises(MissingModelError, match="recorded at download"):
            registry.resolve("nohash")
        sidecar.unlink()
        assert registry.check("nohash").hash == "unknown"
        assert registry.resolve("nohash") == p
    assert _leftovers(home) == ["nohash.bin"]


def test_size_only_entry_rejects_a_wrong_length(server, home):
    e = WeightsEntry(name="sized", url=server.base + "nohash.bin", filename="nohash.bin", size=len(PAYLOAD) + 1)
    with registry.registered(e):
        with pytest.raises(MissingModelError, match=f"expected {len(PAYLOAD) + 1}"):
            registry.resolve("sized")
    assert len(server.requests) == 1 and _leftovers(home) == []


def test_sha256_of_is_computed_once_per_path_and_mtime(tmp_path, monkeypatch):
    f = tmp_path / "f.bin"
    f.write_bytes(PAYLOAD)
    calls = []
    real = registry._hash_file
    monkeypatch.setattr(registry, "_hash_file", lambda p: calls.append(p) or real(p))
    assert registry.sha256_of(f) == SHA and registry.sha256_of(str(f)) == SHA
    assert len(calls) == 1
    os.utime(f, ns=(2, 2))
    assert registry.sha256_of(f) == SHA and len(calls) == 2


def test_mirror_replaces_the_url(server, home, monkeypatch):
    e = WeightsEntry(name="mirrored", url=DEAD_URL + "/test-weights.bin", filename="test-weights.bin", sha256=SHA)
    monkeypatch.setenv(registry.MIRROR_ENV, server.base.rstrip("/"))
    with registry.registered(e):
        assert registry.download_url("mirrored") == server.base + "test-weights.bin"
        assert registry.resolve("mirrored").read_bytes() == PAYLOAD
    assert server.requests == ["/test-weights.bin"]


def test_status_lists_every_entry(entry, server, home):
    rows = {r.name: r for r in registry.status()}
    assert set(rows) == set(registry.entries())
    assert rows["test-weights"] == ("test-weights", False, home / "weights" / "test-weights.bin", "absent")
    registry.resolve("test-weights")
    assert {r.name: r for r in registry.status()}["test-weights"].hash == "ok"


# -- the CLI -----------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_cli_models_list(entry, home):
    res = runner.invoke(app, ["models", "list"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for word in ("yolo11n-seg", "sam_vit_b", "sam_vit_h", "AGPL-3.0", "Apache-2.0", "test-weights"):
        assert word in res.stdout


def test_cli_models_path_offline_missing_is_one_line_exit_3(entry, server, home):
    res = runner.invoke(app, ["models", "path", "test-weights", "--offline"], env={"COLUMNS": "400"})
    assert res.exit_code == 3
    assert len(_lines(res.output)) == 1 and "offline mode" in res.output and res.stdout == ""
    res = runner.invoke(app, ["models", "path", "test-weights"], env={"COLUMNS": "400"})
    assert res.exit_code == 3 and len(_lines(res.output)) == 1 and "models download test-weights" in res.output
    res = runner.invoke(app, ["models", "path", "nope"])
    assert res.exit_code == 2 and "unknown weights" in res.output
    assert server.requests == []


def test_cli_models_download_through_the_mirror(server, home, monkeypatch):
    e = WeightsEntry(name="cli-weights", url=DEAD_URL + "/test-weights.bin", filename="test-weights.bin", sha256=SHA)
    with registry.registered(e):
        env = {registry.MIRROR_ENV: server.base, "COLUMNS": "400"}
        res = runner.invoke(app, ["models", "download", "cli-weights", "--quiet"], env=env)
        assert res.exit_code == 0, res.output
        target = home / "weights" / "test-weights.bin"
        assert res.stdout.strip() == str(target) and target.read_bytes() == PAYLOAD
        res = runner.invoke(app, ["models", "download", "cli-weights"], env=env)  # progress bar path, cached
        assert res.exit_code == 0 and res.stdout.strip() == str(target) and "already in the cache" in res.stderr
        res = runner.invoke(app, ["models", "path", "cli-weights", "--offline"], env=env)
        assert res.exit_code == 0 and res.stdout.strip() == str(target)
        res = runner.invoke(app, ["models", "download", "cli-weights", "--force"], env=env)
        assert res.exit_code == 0 and res.stdout.strip() == str(target)
        assert len(server.requests) == 2
        server.mode = "wrong"
        target.unlink()
        res = runner.invoke(app, ["models", "download", "cli-weights", "-q"], env=env)
        assert res.exit_code == 3 and len(_lines(res.output)) == 1 and "sha256 mismatch" in res.output
        assert _leftovers(home) == []


def test_cli_doctor_reports_weights_and_offline_mode(entry, home, monkeypatch):
    monkeypatch.setenv("HOIRECON_OFFLINE", "1")
    res = runner.invoke(app, ["doctor"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "weights sam_vit_b" in res.stdout and "weights test-weights" in res.stdout
    assert "absent" in res.stdout and "offline mode" in res.stdout


# -- first use: one download across processes, `--detector auto` fetching YOLO --------------------

_RESOLVE = """
import sys
from hoirecon import registry
print(registry.resolve("yolo11n-seg"))
"""


def test_processes_wanting_the_same_file_download_it_once(server, home, tmp_path):
    """Two processes (as `hoirecon batch --jobs 2` workers) resolve the same missing file at once: one
    downloads it under the lock, the other waits and uses it; the sha256 is recorded once."""
    import subprocess
    import sys

    server.files["yolo11n-seg.pt"] = PAYLOAD
    server.mode = "slow"
    env = {**os.environ, registry.MIRROR_ENV: server.base}
    env.pop("HOIRECON_OFFLINE", None)
    procs = [subprocess.Popen([sys.executable, "-c", _RESOLVE], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    target = home / "weights" / "yolo11n-seg.pt"
    assert {o[0].strip() for o in outs} == {str(target)} and target.read_bytes() == PAYLOAD
    assert server.requests == ["/yolo11n-seg.pt"]  # one download
    assert (home / "weights" / "yolo11n-seg.pt.sha256").read_text().split()[0] == SHA
    assert _leftovers(home) == ["yolo11n-seg.pt", "yolo11n-seg.pt.sha256"]


def _serve_untrained_yolo(server, tmp_path) -> bytes:
    from .test_detectors import _save_untrained_yolo

    (tmp_path / "served").mkdir(exist_ok=True)
    data = _save_untrained_yolo("yolo11n-seg.yaml", tmp_path / "served" / "yolo11n-seg.pt").read_bytes()
    server.files["yolo11n-seg.pt"] = data
    return data


def test_reconstruct_without_a_box_fetches_the_detector_on_first_use(server, home, tmp_path, smplx_dir):
    """Online, `--detector auto` and no object box: the YOLO weights are downloaded before any model
    loads (a notice names what, its licence, from where, into where), recorded by sha256, and used;
    later runs take it from the cache. Offline, the same command fails before any model loads."""
    from PIL import Image

    data = _serve_untrained_yolo(server, tmp_path)
    photo = tmp_path / "photo.png"
    Image.open(Path(__file__).resolve().parents[1] / "examples" / "camera.png").convert("RGB").resize((256, 256)).save(photo)
    env = {registry.MIRROR_ENV: server.base, "COLUMNS": "400"}
    args = ["reconstruct", str(photo), "--object", "camera", "--out", str(tmp_path / "out"), "--max-side", "256",
            "--body-model", "smplx", "--smplx-dir", str(smplx_dir)]  # the synthetic SMPL-X: the empty cache has no Anny data
    res = runner.invoke(app, args, env=env)
    target = home / "weights" / "yolo11n-seg.pt"
    assert target.is_file() and target.read_bytes() == data, res.output
    assert server.requests == ["/yolo11n-seg.pt"]
    assert "first use: downloading yolo11n-seg" in res.stderr and "AGPL-3.0" in res.stderr and server.base in res.stderr
    assert (home / "weights" / "yolo11n-seg.pt.sha256").read_text().split()[0] == hashlib.sha256(data).hexdigest()
    # the untrained detector ran (it may or may not find a camera); it was not "missing"
    assert "no object detector" not in res.output and "YOLO not available" not in res.output, res.output
    assert registry.resolve("yolo11n-seg") == target and len(server.requests) == 1  # later runs: the cache
    target.unlink()
    res = runner.invoke(app, [*args, "--offline"], env=env)
    assert res.exit_code == 2 and "offline" in res.output and "hoirecon models download yolo11n-seg" in res.output
    assert len(server.requests) == 1 and not target.exists()


def test_reconstruct_first_use_download_failure_is_exit_3_and_leaves_nothing(server, home, tmp_path):
    server.mode = "404"
    photo = tmp_path / "photo.png"
    from PIL import Image

    Image.new("RGB", (64, 64), (120, 120, 120)).save(photo)
    res = runner.invoke(app, ["reconstruct", str(photo), "--object", "cup", "--out", str(tmp_path / "out"), "-q"],
                        env={registry.MIRROR_ENV: server.base})  # fmt: skip
    assert res.exit_code == 3, res.output
    assert len(_lines(res.output)) == 1 and "yolo11n-seg" in res.output and "HTTP 404" in res.output
    assert _leftovers(home) == [] and not (tmp_path / "out").exists()


def test_detection_chain_auto_downloads_only_when_it_needs_the_detector(server, home, tmp_path, monkeypatch):
    """The library path (batch workers): `auto` with a box uses cached weights only; without a box it
    fetches them (under the same lock)."""
    from hoirecon.config import DetectorConfig
    from hoirecon.perception.chain import DetectionChain

    data = _serve_untrained_yolo(server, tmp_path)
    monkeypatch.setenv(registry.MIRROR_ENV, server.base)
    chain = DetectionChain(DetectorConfig(detector="auto"))
    assert chain.yolo(needed=False) is None and server.requests == []
    assert chain.yolo(needed=True) is not None and server.requests == ["/yolo11n-seg.pt"]
    assert (home / "weights" / "yolo11n-seg.pt").read_bytes() == data
    offline = DetectionChain(DetectorConfig(detector="auto", offline=True))
    (home / "weights" / "yolo11n-seg.pt").unlink()
    assert offline.yolo(needed=True) is None and len(server.requests) == 1
    assert "offline" in offline.notices[0]
