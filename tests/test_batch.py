"""``hoirecon batch``: planning, isolation of bad images, resume, interrupts, process and Ray workers.

Most tests use a cheap fake pipeline (tests/_batch_support.py) so that the batch machinery itself is
exercised in seconds; one end-to-end run (CLI, real pipeline) covers the two example photos, and the
Ray test runs the real pipeline on a local Ray instance."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hoirecon import batch as B
from hoirecon.cli.main import app
from hoirecon.errors import InputError, MissingModelError
from hoirecon.export.writer import OUTPUT_FILES
from hoirecon.fsutil import MARKER, write_marker

from ._batch_support import ROOT, no_temporaries, real_batch_output, write_small_inputs

FAKE = "tests._batch_support:fake_factory"
runner = CliRunner()


# ------------------------------------------------------------------------------------------ planning


def test_collect_sorts_filters_and_names_collisions(tmp_path):
    for name in ("b.png", "a.png", "a.JPG", "notes.txt", "a.png.json", ".hidden.png", "ü ber.jpeg", "index.png"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.png").write_bytes(b"x")
    imgs = B.collect_images(tmp_path)
    assert [p.name for p in imgs] == ["a.JPG", "a.png", "b.png", "index.png", "ü ber.jpeg"]  # sorted, no sub-folder
    names = B.assign_names(imgs)
    assert names == ["a_JPG", "a_png", "b", "index", "ü_ber"]
    # a glob recurses with **; the two a.png get distinct names
    deep = B.collect_images(str(tmp_path / "**" / "a.png"))
    assert len(deep) == 2 and len(set(B.assign_names(deep))) == 2
    assert B.assign_names([Path("x/summary.json.png")]) == ["summary.json_image"]
    assert B.assign_names([Path("p/a.png"), Path("q/a.png"), Path("r/A.png")]) == ["a_png", "a_png_2", "A_png_3"]


def test_plan_shards_partition_the_sorted_list(tmp_path):
    for i in range(7):
        (tmp_path / f"img{i}.png").write_bytes(b"x")
    full = B.plan(tmp_path)
    shards = [B.plan(tmp_path, (i, 3)) for i in range(3)]
    assert sorted(it.index for s in shards for it in s) == list(range(7))
    assert [it.name for it in shards[1]] == ["img1", "img4"]
    assert {it.name: it.index for it in full} == {it.name: it.index for s in shards for it in s}
    assert B.parse_shard("2/4") == (2, 4) and B.parse_shard(None) is None
    for bad in ("4/4", "1", "a/b", "-1/2", "0/0"):
        with pytest.raises(InputError, match="--shard"):
            B.parse_shard(bad)
    with pytest.raises(InputError, match="no images found"):
        B.collect_images(tmp_path / "*.jpg")
    with pytest.raises(InputError, match="no such folder"):
        B.collect_images(tmp_path / "missing")


# -------------------------------------------------------------------------------- fake pipeline runs


def _run(src, out, **kw):
    kw.setdefault("pipeline_factory", FAKE)
    kw.setdefault("turntable", False)
    return B.run_batch(src, out, **kw)


def test_batch_isolates_bad_images_and_writes_summaries(tmp_path):
    src = tmp_path / "in"
    write_small_inputs(src)
    out = tmp_path / "out"
    events = []
    res = _run(src, out, turntable=True, on_event=lambda k, d: events.append((k, d)))
    assert res.exit_code == 1 and res.counts == {"total": 4, "ok": 2, "failed": 2, "skipped": 0}
    assert [r["name"] for r in res.rows] == ["broken", "good_0", "good_1", "notes"]  # sorted
    for name in ("good_0", "good_1"):
        files = {p.name for p in (out / name).iterdir()}
        assert files == set(OUTPUT_FILES) | {"done", "turntable.gif", "turntable.png", "scene.glb.js", MARKER}  # + the page's copy of the GLB
        done = json.loads((out / name / "done").read_text())
        assert done["status"] == "ok" and done["object_category"] == "cup" and done["peak_rss_mb"] > 0
    for name, why in (("broken", "corrupt or truncated"), ("notes", "not an image file")):
        assert {p.name for p in (out / name).iterdir()} == {"error.txt", MARKER}
        text = (out / name / "error.txt").read_text()
        assert why in text and text.count("\n") == 1
    s = json.loads((out / "summary.json").read_text())
    assert s["counts"] == {"images": 4, "ok": 2, "failed": 2, "skipped": 0, "not_run": 0}
    assert s["exit_code"] == 1 and s["images_per_minute"] > 0 and s["workers"][0]["peak_rss_mb"] > 0
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["status"] for r in rows] == ["failed", "ok", "ok", "failed"]
    assert rows[1]["object_category"] == "cup" and float(rows[1]["contact_distance_m"]) == pytest.approx(0.004)
    assert rows[1]["object_make"] == "" and "object_make" in rows[0]  # the fake's mesh is no library make
    assert "corrupt or truncated" in rows[0]["error"]
    html = (out / "index.html").read_text()
    assert "good_0/overlay.png" in html and "good_0/turntable.gif" in html and "not an image file" in html
    assert [k for k, _ in events] == ["plan", "row", "row", "row", "row", "summary"]
    assert no_temporaries(out) == []


def test_resume_skips_done_and_retries_failed(tmp_path, monkeypatch):
    src = tmp_path / "in"
    write_small_inputs(src)
    out = tmp_path / "out"
    _run(src, out)
    mtime = (out / "good_0" / "scene.glb").stat().st_mtime_ns
    res = _run(src, out)
    assert [r["status"] for r in res.rows] == ["failed", "skipped", "skipped", "failed"]
    assert (out / "good_0" / "scene.glb").stat().st_mtime_ns == mtime
    assert res.summary["counts"]["skipped"] == 2 and res.rows[1]["object_category"] == "cup"
    # a fixed input is retried and succeeds; its error.txt goes
    write_small_inputs(src, good=0, bad=False)
    (src / "notes.jpg").unlink()
    (src / "broken.png").write_bytes((src / "good_0.png").read_bytes())
    res = _run(src, out)
    assert [r["status"] for r in res.rows] == ["ok", "skipped", "skipped"] and res.exit_code == 0
    assert not (out / "broken" / "error.txt").exists() and (out / "broken" / "done").exists()
    # --overwrite reprocesses; a now-failing image loses its stale outputs
    monkeypatch.setenv("HOIRECON_FAKE_FAIL", "good_1")
    res = _run(src, out, overwrite=True)
    assert [r["status"] for r in res.rows] == ["ok", "ok", "failed"]
    assert res.rows[2]["error"] == "internal error: RuntimeError: fake failure"
    assert {p.name for p in (out / "good_1").iterdir()} == {"error.txt", MARKER}
    assert (out / "good_0" / "scene.glb").stat().st_mtime_ns != mtime


def test_keyboard_interrupt_mid_write_leaves_no_half_written_folder(tmp_path, monkeypatch):
    from hoirecon.export import mesh_io

    src = tmp_path / "in"
    write_small_inputs(src, good=3, bad=False)
    out = tmp_path / "out"
    real_write_obj = mesh_io.write_obj
    calls = {"n": 0}

    def interrupting_write_obj(path, meshes, **kw):
        calls["n"] += 1
        if calls["n"] == 4:  # first OBJ of the second image: its GLB is already in the temporary folder
            raise KeyboardInterrupt
        return real_write_obj(path, meshes, **kw)

    monkeypatch.setattr(mesh_io, "write_obj", interrupting_write_obj)
    with pytest.raises(KeyboardInterrupt):
        _run(src, out)
    assert no_temporaries(out) == []
    assert (out / "good_0" / "done").is_file()
    assert not (out / "good_1").exists() and not (out / "good_2").exists()
    s = json.loads((out / "summary.json").read_text())
    assert s["interrupted"] is True and s["counts"]["ok"] == 1 and s["counts"]["not_run"] == 2
    monkeypatch.setattr(mesh_io, "write_obj", real_write_obj)
    res = _run(src, out)
    assert [r["status"] for r in res.rows] == ["skipped", "ok", "ok"] and res.exit_code == 0


def test_interrupt_counts_an_image_done_on_disk_whose_row_was_not_received(tmp_path, monkeypatch):
    """Ctrl-C after a worker wrote an image's ``done`` but before its row reached the batch: the image is
    done (a resume skips it), so the interrupted run's summary counts it; an older ``done`` of an image
    this run did not reach (--overwrite) is not counted."""
    src = tmp_path / "in"
    write_small_inputs(src, good=3, bad=False)
    out = tmp_path / "out"
    real_process_item = B.process_item

    def interrupt_at(name, before):
        def process_item(item, out_root):
            if before and item.name == name:
                raise KeyboardInterrupt
            row = real_process_item(item, out_root)
            if item.name == name:  # done written, the row lost
                raise KeyboardInterrupt
            return row

        return process_item

    monkeypatch.setattr(B, "process_item", interrupt_at("good_1", before=False))
    with pytest.raises(KeyboardInterrupt):
        _run(src, out)
    assert {p.parent.name for p in out.glob("*/done")} == {"good_0", "good_1"}
    s = json.loads((out / "summary.json").read_text())
    assert s["interrupted"] is True and s["counts"]["ok"] == 2 and s["counts"]["not_run"] == 1
    assert [r["name"] for r in s["images"]] == ["good_0", "good_1"] and s["images"][1]["object_category"] == "cup"
    monkeypatch.setattr(B, "process_item", real_process_item)
    assert [r["status"] for r in _run(src, out).rows] == ["skipped", "skipped", "ok"]
    monkeypatch.setattr(B, "process_item", interrupt_at("good_1", before=True))
    with pytest.raises(KeyboardInterrupt):
        _run(src, out, overwrite=True)
    s = json.loads((out / "summary.json").read_text())
    assert s["counts"]["ok"] == 1 and s["counts"]["not_run"] == 2 and [r["name"] for r in s["images"]] == ["good_0"]


def test_pool_workers_keep_an_inherited_ignored_sigint():
    """A pool worker exits on SIGINT like its parent, and ignores it where its parent does (SIGINT
    inherited as ignored: nohup, a background job); SIGTERM (the parent's stop) always ends it."""
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        for inherited, expected in ((signal.SIG_IGN, signal.SIG_IGN), (signal.default_int_handler, B._exit_on_signal)):
            signal.signal(signal.SIGINT, inherited)
            B.init_worker(B.BatchSettings(pipeline_factory=FAKE), set_threads=False, signals=True)
            assert signal.getsignal(signal.SIGINT) == expected
            assert signal.getsignal(signal.SIGTERM) == B._exit_on_signal
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])
        B._STATE.pipeline = None


def test_stale_temporaries_of_a_killed_run_are_swept(tmp_path):
    src = tmp_path / "in"
    write_small_inputs(src, good=1, bad=False)
    out = tmp_path / "out"
    (out / "good_0").mkdir(parents=True)
    write_marker(out / "good_0")  # the folder of an earlier, killed run
    (out / ".good_0.0123abcdef45.part").mkdir()
    (out / "good_0" / ".scene.glb.x1y2.part.glb").write_bytes(b"half")
    (out / ".other_batch.0123abcdef45.part").mkdir()  # not ours: left alone
    res = _run(src, out)
    assert res.exit_code == 0
    assert sorted(p.name for p in no_temporaries(out)) == [".other_batch.0123abcdef45.part"]


def test_worker_processes_give_the_same_outputs(tmp_path):
    src = tmp_path / "in"
    write_small_inputs(src, good=3)
    inline = _run(src, tmp_path / "one", jobs=1)
    pooled = _run(src, tmp_path / "two", jobs=2)
    strip = lambda rows: [(r["name"], r["status"], r.get("object_category"), r.get("error")) for r in rows]  # noqa: E731
    assert strip(pooled.rows) == strip(inline.rows)
    for r in inline.rows:
        a = sorted(p.name for p in (tmp_path / "one" / r["name"]).iterdir())
        b = sorted(p.name for p in (tmp_path / "two" / r["name"]).iterdir())
        assert a == b
    pids = {r["worker_pid"] for r in pooled.rows}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert pooled.summary["settings"]["threads_per_worker"] >= 1
    assert all(w["peak_rss_mb"] > 0 for w in pooled.summary["workers"])


def test_missing_models_stop_the_batch_before_marking_images(tmp_path):
    src = tmp_path / "in"
    write_small_inputs(src, good=2, bad=False)
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        with pytest.raises(MissingModelError, match="SMPL-X model files not found"):
            _run(src, out, jobs=jobs, pipeline={"body_model": "missing"})
        assert not list(out.rglob("error.txt")) and not list(out.rglob("done"))


# SIGINT handled as in a terminal's foreground job, whatever the test runner inherited: a background job
# of a non-interactive shell (``pytest ... &`` in a script) starts with SIGINT ignored, which the batch
# and its workers rightly keep, and then the Ctrl-C below would not stop it (exit 0, every image done).
_SIGINT_SCRIPT = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from hoirecon.batch import run_batch
try:
    run_batch(sys.argv[1], sys.argv[2], jobs=2, pipeline_factory="tests._batch_support:fake_factory", turntable=False)
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_ctrl_c_on_worker_processes_then_resume(tmp_path):
    """SIGINT to the whole process group (a terminal's Ctrl-C) while two workers write."""
    src = tmp_path / "in"
    write_small_inputs(src, good=8, bad=False)
    out = tmp_path / "out"
    env = dict(os.environ, HOIRECON_FAKE_SLEEP="1.0", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", _SIGINT_SCRIPT, str(src), str(out)], env=env, cwd=ROOT,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob("*/done")):
        time.sleep(0.2)
    assert list(out.glob("*/done")), proc.communicate(timeout=30)[0].decode()[-2000:]
    os.killpg(proc.pid, signal.SIGINT)
    output = proc.communicate(timeout=60)[0].decode()
    finished = len(list(out.glob("*/done")))
    assert proc.returncode == 130, f"exit {proc.returncode}, {finished} of 8 images done\n{output[-2000:]}"
    assert no_temporaries(out) == []
    done = {p.parent.name for p in out.glob("*/done")}
    assert 1 <= len(done) < 8
    for folder in out.iterdir():
        if folder.is_dir() and folder.name in done:
            assert {p.name for p in folder.iterdir()} >= set(OUTPUT_FILES)
    s = json.loads((out / "summary.json").read_text())
    assert s["interrupted"] is True and s["counts"]["ok"] == len(done)
    res = B.run_batch(src, out, jobs=1, pipeline_factory=FAKE, turntable=False)
    assert res.counts == {"total": 8, "ok": 8 - len(done), "failed": 0, "skipped": len(done)}


def test_cli_help_and_argument_errors(tmp_path):
    res = runner.invoke(app, ["batch", "--help"])
    assert res.exit_code == 0 and "Examples:" in res.output and "--shard 0/4" in res.output and "--engine ray" in res.output
    res = runner.invoke(app, ["batch", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "no such folder" in res.output
    (tmp_path / "a.png").write_bytes(b"x")
    res = runner.invoke(app, ["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--shard", "3/3"])
    assert res.exit_code == 2 and "--shard" in res.output
    res = runner.invoke(app, ["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--object", "   "])
    assert res.exit_code == 2 and "non-empty" in res.output  # an empty label; an unknown one gets a proxy


# ------------------------------------------------------------------------------------- real pipeline


@pytest.fixture(scope="module")
def real(anny_body):
    return real_batch_output()


def test_end_to_end_real_batch(real):
    out, code, output = real
    assert code == 1, output  # one bad file among three
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["astronaut", "camera", "truncated"]
    cats = {}
    for name in ("camera", "astronaut"):
        files = {p.name for p in (out / name).iterdir()}
        assert files >= set(OUTPUT_FILES) | {"done", "turntable.gif", "turntable.png"}
        params = json.loads((out / name / "params.json").read_text())
        cats[name] = params["object"]["category"]
        assert params["losses"]["contact_distance_m"] < 0.05
    assert cats == {"camera": "camera_tripod", "astronaut": "helmet"}  # labels from each image's sidecar
    assert "corrupt or truncated" in (out / "truncated" / "error.txt").read_text()
    s = json.loads((out / "summary.json").read_text())
    assert s["counts"]["ok"] == 2 and s["counts"]["failed"] == 1 and s["exit_code"] == 1
    assert len(s["workers"]) == 1 and s["workers"][0]["pid"] == os.getpid()
    assert "camera/turntable.gif" in (out / "index.html").read_text()
    assert no_temporaries(out) == []


def test_ray_engine_gives_the_same_outputs(real, tmp_path):
    pytest.importorskip("ray")
    src_out, _, _ = real
    src = tmp_path / "photos"
    src.mkdir()
    for name in ("camera.png", "camera.png.json"):
        (src / name).write_bytes((ROOT / "examples" / name).read_bytes())
    data = (ROOT / "examples" / "camera.png").read_bytes()
    (src / "truncated.png").write_bytes(data[: len(data) // 3])
    out = tmp_path / "ray"
    res = B.run_batch(src, out, jobs=2, engine="ray")
    assert [(r["name"], r["status"]) for r in res.rows] == [("camera", "ok"), ("truncated", "failed")]
    assert res.summary["engine"] == "ray" and len({r["worker_pid"] for r in res.rows}) >= 1
    assert os.getpid() not in {r["worker_pid"] for r in res.rows}
    local = sorted(p.name for p in (src_out / "camera").iterdir())
    assert sorted(p.name for p in (out / "camera").iterdir()) == local
    a = json.loads((out / "camera" / "params.json").read_text())
    b = json.loads((src_out / "camera" / "params.json").read_text())
    assert a["object"]["category"] == b["object"]["category"] == "camera_tripod"
    assert a["losses"]["contact_distance_m"] < 0.05
    assert (out / "truncated" / "error.txt").read_text().split(": ", 1)[1] == (
        (src_out / "truncated" / "error.txt").read_text().split(": ", 1)[1]
    )
    # resume semantics are the same: a second run skips the done image
    res2 = B.run_batch(src, out, jobs=2, engine="ray")
    assert [r["status"] for r in res2.rows] == ["skipped", "failed"]
    assert no_temporaries(out) == []


def test_batch_refuses_a_folder_with_page_files_it_did_not_write(tmp_path):
    """index.html and viewer.js at the top of a folder without hoirecon's marker are the user's: the
    batch says so before any work and leaves them alone."""
    for name in ("index.html", "viewer.js"):
        root = tmp_path / name.replace(".", "_")
        root.mkdir()
        (root / name).write_text("mine")
        with pytest.raises(InputError, match=name):
            B.check_batch_root(root)
        assert (root / name).read_text() == "mine"
    B.check_batch_root(tmp_path / "new")  # a folder that can be created is fine
