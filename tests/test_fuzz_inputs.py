"""Fuzzing the inputs: every bad input fails fast with exit 2 and one stderr line naming the file and the
fault, leaving nothing behind; odd but valid inputs succeed; a user's folder is never touched; no model
is imported before the inputs are checked.

All inputs are built in a temporary folder by the tests themselves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from hoirecon.cli.main import app
from hoirecon.fsutil import MARKER

from ._batch_support import no_temporaries

runner = CliRunner()

# --------------------------------------------------------------------------------------- building inputs


def _photo(path: Path, size=(96, 72), mode="RGB", **save) -> Path:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    img = Image.fromarray(rgb)
    if mode != "RGB":
        img = img.convert(mode)
    img.save(path, **save)
    return path


def _sidecar(photo: Path, data) -> None:
    text = data if isinstance(data, str) else json.dumps(data)
    Path(str(photo) + ".json").write_text(text)


def _obj(path: Path, vertices: list[str], faces: list[str]) -> Path:
    path.write_text("\n".join([*vertices, *faces]) + "\n")
    return path


_GOOD_OBJ = (["v 0 0 0", "v 1 0 0", "v 0 1 0", "v 0 0 1"], ["f 1 2 3", "f 1 2 4", "f 1 3 4", "f 2 3 4"])


def _invalid_cases(tmp: Path) -> list[tuple[str, list[str], str]]:
    """(case id, CLI arguments, a text the one error line must contain)."""
    cases: list[tuple[str, list[str], str]] = []
    good = _photo(tmp / "good.png")
    box = ["--object", "cup", "--object-box", "10,10,40,40"]

    def add(case, args, must):
        cases.append((case, args, must))

    # images
    (tmp / "noise.jpg").write_bytes(os.urandom(2048))
    add("corrupt", [str(tmp / "noise.jpg"), *box], "noise.jpg")
    data = (tmp / "good.png").read_bytes()
    (tmp / "half.png").write_bytes(data[: len(data) // 2])
    add("truncated", [str(tmp / "half.png"), *box], "half.png")
    (tmp / "empty.jpg").write_bytes(b"")
    add("empty", [str(tmp / "empty.jpg"), *box], "empty.jpg")
    _photo(tmp / "tiny.png", size=(16, 12))
    add("tiny", [str(tmp / "tiny.png"), *box], "too small")
    Image.new("1", (9000, 5000)).save(tmp / "huge.png")  # 45 megapixels, a few kB
    add("huge", [str(tmp / "huge.png"), *box], "too large")
    add("missing", [str(tmp / "nowhere.jpg"), *box], "nowhere.jpg")
    add("folder-as-image", [str(tmp), *box], "is a folder")
    (tmp / "[bold]x[red].jpg").write_bytes(b"garbage")  # ("/" cannot be in a file name, "[/]" is in values below)
    add("markup-name", [str(tmp / "[bold]x[red].jpg"), *box], "[bold]x[red].jpg")
    # sidecars
    for name, content, must in [
        ("deep", "[" * 100_000 + "]" * 100_000, "nests deeper"),
        ("notjson", "{object: cup", "not valid JSON"),
        ("typo", {"objekt": "cup"}, "unknown sidecar key"),
        ("array", [1, 2], "must be a JSON object"),
        ("markup-value", {"object_box": "[bold]red[/]"}, "[bold]red[/]"),
        ("nanbox", '{"object_box": [1, 2, NaN, 4]}', "object_box"),
        ("badfocal", {"focal_px": -3}, "focal_px"),
        ("longlabel", {"object": "x" * 1_000_000}, "limit 200"),
    ]:
        p = _photo(tmp / f"side_{name}.png")
        _sidecar(p, content)
        add(f"sidecar-{name}", [str(p)], f"side_{name}.png.json")
        cases[-1] = (cases[-1][0], cases[-1][1], must if must.startswith("[") else f"side_{name}.png.json")
    # boxes and labels
    add("box-outside", [str(good), "--object", "cup", "--object-box", "50,10,300,40"], "leaves the 96x72 image")
    add("box-markup", [str(good), "--object", "cup", "--object-box", "[red]1,2,3,4[/]"], "[red]1,2,3,4[/]")
    add("box-text", [str(good), "--object", "cup", "--object-box", "a,b,c,d"], "--object-box")
    add("label-1MB", [str(good), "--object", "y" * 1_000_000, "--object-box", "10,10,40,40"], "limit 200")
    add("no-box-no-detector", [str(good), "--object", "cup", "--detector", "mediapipe"], "no object box")
    add("focal-negative", [str(good), *box, "--focal-px", "-5"], "--focal-px")
    add("focal-nan", [str(good), *box, "--focal-px", "nan"], "--focal-px")
    # masks
    Image.new("L", (50, 50), 255).save(tmp / "small_mask.png")
    add("mask-size", [str(good), "--object", "cup", "--object-mask", str(tmp / "small_mask.png")], "small_mask.png")
    Image.new("1", (20000, 20000)).save(tmp / "huge_mask.png")
    add("mask-huge", [str(good), "--object", "cup", "--object-mask", str(tmp / "huge_mask.png")], "huge_mask.png")
    Image.new("L", (96, 72), 0).save(tmp / "empty_mask.png")
    add("mask-empty", [str(good), "--object", "cup", "--object-mask", str(tmp / "empty_mask.png")], "empty_mask.png")
    (tmp / "text_mask.png").write_text("not a mask")
    add("mask-corrupt", [str(good), "--object", "cup", "--object-mask", str(tmp / "text_mask.png")], "text_mask.png")
    # meshes
    _obj(tmp / "nan.obj", ["v nan 0 0", "v 1 0 0", "v 0 1 0", "v 0 0 1"], _GOOD_OBJ[1])
    add("mesh-nan", [str(good), *box, "--mesh", str(tmp / "nan.obj")], "nan.obj")
    _obj(tmp / "flat.obj", ["v 0 0 0", "v 1 0 0", "v 2 0 0"], ["f 1 2 3"])
    add("mesh-degenerate", [str(good), *box, "--mesh", str(tmp / "flat.obj")], "flat.obj")
    (tmp / "none.obj").write_text("# nothing\n")
    add("mesh-empty", [str(good), *box, "--mesh", str(tmp / "none.obj")], "none.obj")
    (tmp / "junk.glb").write_bytes(os.urandom(300))
    add("mesh-corrupt", [str(good), *box, "--mesh", str(tmp / "junk.glb")], "junk.glb")
    # options
    add("device", [str(good), *box, "--device", "gpu"], "--device")
    add("detector-choice", [str(good), *box, "--detector", "foo"], "--detector")
    add("yolo-weights-missing", [str(good), *box, "--yolo-weights", str(tmp / "no.pt")], "no.pt")
    # the output location
    (tmp / "a_file").write_text("x")
    add("out-is-file", [str(good), *box, "--out", str(tmp / "a_file")], "a_file")
    ro = tmp / "readonly"
    ro.mkdir()
    os.chmod(ro, 0o555)
    add("out-read-only", [str(good), *box, "--out", str(ro / "res")], "readonly")
    user = tmp / "users_folder"
    user.mkdir()
    (user / "precious.txt").write_text("data")
    add("out-user-folder", [str(good), *box, "--out", str(user)], "not written by hoirecon")
    return cases


def _listing(root: Path) -> dict[str, float]:
    return {os.fspath(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*")}


def test_invalid_inputs_fail_fast_with_one_line(tmp_path):
    cases = _invalid_cases(tmp_path)
    assert len(cases) >= 35
    before = _listing(tmp_path)
    slow = []
    for case, args, must in cases:
        out_args = [] if "--out" in args else ["--out", str(tmp_path / "results" / case)]
        t0 = time.perf_counter()
        res = runner.invoke(app, ["reconstruct", *args, *out_args])
        took = time.perf_counter() - t0
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert res.exit_code == 2, (case, res.exit_code, res.output[-500:])
        assert len(lines) == 1, (case, lines[:5])
        assert lines[0].startswith("error: "), (case, lines[0])
        assert must in lines[0], (case, must, lines[0][:300])
        assert len(lines[0]) < 1200, (case, len(lines[0]))
        assert "Traceback" not in res.output
        if took > 1.0:
            slow.append((case, round(took, 2)))
    assert slow == []  # each fails in under a second (nothing loads before the check)
    assert not (tmp_path / "results").exists()  # no output folder, not even an empty one
    assert _listing(tmp_path) == before  # nothing written or touched anywhere (user folder included)
    assert no_temporaries(tmp_path) == []


def test_invalid_batch_arguments_fail_before_work(tmp_path):
    src = tmp_path / "photos"
    src.mkdir()
    _photo(src / "a.png")
    (tmp_path / "file").write_text("x")
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "summary.json").write_text("{}")  # the user's own summary: never replaced
    for args, must in [
        ([str(src), "--out", str(tmp_path / "file")], "not a folder"),
        ([str(src), "--out", str(ro)], "not writable"),
        ([str(src), "--out", str(mine)], "summary.json"),
        ([str(src), "--out", str(tmp_path / "o"), "--object", "[/]" * 400], "limit 200"),
        ([str(tmp_path / "nothing"), "--out", str(tmp_path / "o")], "nothing"),
        ([str(src), "--out", str(tmp_path / "o"), "--shard", "5/2"], "--shard"),
        ([str(src), "--out", str(tmp_path / "o"), "--segmenter", "magic"], "--segmenter"),
    ]:
        res = runner.invoke(app, ["batch", *args, "--quiet"])
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and must in lines[0], (args[-1][:40], res.exit_code, lines)
    assert (mine / "summary.json").read_text() == "{}"
    assert not (tmp_path / "o").exists() and list(ro.iterdir()) == []


# ------------------------------------------------------------------------------------ odd but valid


def _odd_valid(tmp: Path) -> list[Path]:
    rng = np.random.default_rng(1)
    out = []
    a16 = (rng.integers(0, 65535, (72, 96))).astype(np.uint16)
    Image.fromarray(a16).save(tmp / "gray16.png")
    out.append(tmp / "gray16.png")
    out.append(_photo(tmp / "rgba.png", mode="RGBA"))
    out.append(_photo(tmp / "cmyk.jpg", mode="CMYK"))
    out.append(_photo(tmp / "gray.png", mode="L"))
    out.append(_photo(tmp / "palette.gif", mode="P"))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: stored 96x72, shown 72x96
    out.append(_photo(tmp / "rotated.jpg", exif=exif.tobytes()))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = 100000  # a 100 m lens in 35 mm terms: ignored, default field of view
    out.append(_photo(tmp / "bogus_focal.jpg", exif=exif.tobytes()))
    out.append(_photo(tmp / "[bold]odd[italic] name.png"))
    for p in out:
        w, h = Image.open(p).size
        if p.name == "rotated.jpg":
            w, h = h, w
        _sidecar(p, {"object": "cup", "object_box": [4, 4, w // 2, h // 2]})
    return out


def test_odd_but_valid_inputs_pass_the_check(tmp_path):
    from hoirecon.inputs import check_image_inputs

    for p in _odd_valid(tmp_path):
        c = check_image_inputs(p)
        assert c.image.rgb.dtype == np.uint8 and c.image.rgb.shape[2] == 3, p.name
        assert c.label == "cup" and c.category == "cup" and c.box is not None
        assert c.image.camera.source == "default_fov"
        if p.name == "rotated.jpg":
            assert (c.image.width, c.image.height) == (72, 96)
    # a good mesh and an odd-but-valid mask (RGBA with the mask in alpha)
    mesh = _obj(tmp_path / "tetra.obj", *_GOOD_OBJ)
    m = np.zeros((72, 96, 4), np.uint8)
    m[10:30, 10:40, 3] = 255
    Image.fromarray(m).save(tmp_path / "alpha_mask.png")
    p = _photo(tmp_path / "plain.png")
    c = check_image_inputs(p, object_label="cup", object_mask=tmp_path / "alpha_mask.png", mesh=mesh)
    assert c.box is not None and c.box.as_list() == [10.0, 10.0, 40.0, 30.0] and c.mesh == mesh


def test_odd_but_valid_inputs_reconstruct_in_a_batch(tmp_path):
    """The odd images through the whole batch machinery with a stand-in for the heavy stages."""
    from hoirecon.batch import run_batch

    src = tmp_path / "photos"
    src.mkdir()
    images = _odd_valid(src)
    out = tmp_path / "out"
    res = run_batch(src, out, jobs=1, turntable=False, index=False, pipeline_factory="tests._batch_support:fake_factory")
    assert res.counts["ok"] == len(images) and res.counts["failed"] == 0, [r.get("error") for r in res.rows]
    names = {r["name"] for r in res.rows}
    assert all((out / n / "done").is_file() and (out / n / MARKER).is_file() for n in names)


# ------------------------------------------------------------------------------------ the user's folder


def test_batch_never_touches_a_folder_it_did_not_make(tmp_path):
    """`mkdir -p out/Documents; echo data > out/Documents/precious.txt`, then a batch with a bad
    Documents.jpg: the folder keeps exactly its file, the image fails naming the folder."""
    from hoirecon.batch import run_batch

    src = tmp_path / "photos"
    src.mkdir()
    (src / "Documents.jpg").write_text("not a photo")
    _photo(src / "holiday.png")
    _sidecar(src / "holiday.png", {"object": "cup", "object_box": [4, 4, 40, 40]})
    _photo(src / "Music.png")
    _sidecar(src / "Music.png", {"object": "cup", "object_box": [4, 4, 40, 40]})
    out = tmp_path / "out"
    (out / "Documents").mkdir(parents=True)
    (out / "Documents" / "precious.txt").write_text("data")
    (out / "Music").mkdir()
    (out / "Music" / "song.mp3").write_bytes(b"\x00" * 10)
    res = run_batch(src, out, jobs=1, turntable=False, index=False, pipeline_factory="tests._batch_support:fake_factory")
    rows = {r["name"]: r for r in res.rows}
    for name, keep in (("Documents", "precious.txt"), ("Music", "song.mp3")):
        assert rows[name]["status"] == "failed"
        assert "was not written by hoirecon" in rows[name]["error"] and name in rows[name]["error"]
        assert [p.name for p in (out / name).iterdir()] == [keep]
    assert (out / "Documents" / "precious.txt").read_text() == "data"
    assert rows["holiday"]["status"] == "ok"
    # a second run (resume) gives the same answer and still touches nothing
    res2 = run_batch(src, out, jobs=1, turntable=False, index=False, pipeline_factory="tests._batch_support:fake_factory")
    assert {r["name"]: r["status"] for r in res2.rows} == {"Documents": "failed", "Music": "failed", "holiday": "skipped"}
    assert [p.name for p in (out / "Documents").iterdir()] == ["precious.txt"]
    # the summary says why, as plain text
    csv = (out / "summary.csv").read_text()
    assert "was not written by hoirecon" in csv


def test_markup_in_names_and_errors_is_printed_as_written(tmp_path):
    """Rich markup in a file name, a label or an exception text never becomes styling or a crash."""
    src = tmp_path / "[red]photos"
    src.mkdir()
    (src / "[b]bad[i].jpg").write_text("no")
    (src / "[bold]empty.png").write_bytes(b"")
    (src / "[bold]empty.png.json").write_text(json.dumps({"object": "[/]"}))
    out = tmp_path / "out"
    res = runner.invoke(app, ["batch", str(src), "--out", str(out), "--detector", "mediapipe", "--no-turntable"])
    assert res.exit_code in (1, 3), res.output  # some images failed (or no models here): never a crash
    assert "Traceback" not in res.output and "MarkupError" not in res.output
    if res.exit_code == 1:
        assert "[red]photos/[b]bad[i].jpg" in res.stderr and (out / "summary.json").is_file()
        assert "[bold]empty.png" in (out / "summary.csv").read_text()
    help_text = runner.invoke(app, ["reconstruct", "--help"]).output
    assert '"object_box": [x0, y0, x1, y1]' in help_text
    assert "pip install 'hoirecon[usd]'" in runner.invoke(app, ["export", "--help"]).output


def test_help_lists_choices_and_no_bool_metavar():
    out = runner.invoke(app, ["reconstruct", "--help"]).output
    for choices in ("auto|yolo|mediapipe", "auto|sam|yolo|grabcut", "neutral|male|female", "cpu|cuda|cuda:N",
                    "anny|smplx"):
        assert choices in out, choices
    assert "<bool>" not in out and "--offline" in out and "-o, --object" in out and "-q, --quiet" in out
    assert "ply|usd" in runner.invoke(app, ["export", "--help"]).output
    top = runner.invoke(app, ["--help"]).output
    assert "--install-completion" in top


# --------------------------------------------------------------------------- no model before the check

_BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = ("torch", "mediapipe", "ultralytics", "segment_anything", "open3d", "anny", "smplx",
               "transformers", "sentence_transformers", "cv2", "tensorflow")
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                sys.stderr.write("BLOCKED IMPORT " + name + "\\n")
                raise ImportError("blocked by the test: " + name)
            return None
    sys.meta_path.insert(0, Block())
    from hoirecon.cli.main import app
    app(sys.argv[1:], prog_name="hoirecon")
    """
)


def test_no_model_is_imported_before_validation_fails(tmp_path):
    """A bad input is reported by the check alone: an import hook that refuses every model package
    (and OpenCV) sees no attempt, and the run still ends with exit 2 and one line."""
    cases = _invalid_cases(tmp_path)
    picked = [c for c in cases if c[0] in ("corrupt", "sidecar-deep", "mask-huge", "mesh-nan", "out-read-only",
                                            "box-outside", "sidecar-longlabel", "device")]  # fmt: skip
    assert len(picked) == 8
    env = dict(os.environ, HOIRECON_DEBUG="")
    for case, args, must in picked:
        out_args = [] if "--out" in args else ["--out", str(tmp_path / "r")]
        p = subprocess.run([sys.executable, "-c", _BLOCKER, "reconstruct", *args, *out_args], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=60)  # fmt: skip
        assert "BLOCKED IMPORT" not in p.stderr, (case, p.stderr[-400:])
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (case, p.returncode, p.stderr[-400:])
    # the hook has teeth: a valid input goes on to load the models, which it refuses
    good = tmp_path / "good.png"
    p = subprocess.run([sys.executable, "-c", _BLOCKER, "reconstruct", str(good), "--object", "cup", "--object-box",
                        "10,10,40,40", "--out", str(tmp_path / "r2")], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=60)  # fmt: skip
    assert "BLOCKED IMPORT" in p.stderr and p.returncode == 1


def test_a_genuine_bug_is_an_internal_error(tmp_path, monkeypatch):
    """Input faults are found by checking for them, not by catching every exception: a bug inside a
    stage still exits 1 with the HOIRECON_DEBUG hint."""
    import hoirecon.inputs as inputs_mod

    def broken(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(inputs_mod.photo, "load_image", broken)
    good = _photo(tmp_path / "good.png")
    res = runner.invoke(app, ["reconstruct", str(good), "--object", "cup", "--object-box", "10,10,40,40",
                              "--out", str(tmp_path / "r")])  # fmt: skip
    assert res.exit_code == 1 and "internal error: ZeroDivisionError: a bug" in res.stderr
    assert "HOIRECON_DEBUG=1" in res.stderr and not (tmp_path / "r").exists()
