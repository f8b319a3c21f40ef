"""Real clients read our exports: the Khronos glTF validator and Blender (headless import + checks).

The tools come from `make clients` (scripts/install-clients.sh). Where they are missing the tests
skip and say why; with HOIRECON_REQUIRE_CLIENTS=1 (set by .ci/run) a missing tool fails instead.
The folders checked are real reconstructions of the example photos (the session's shared
`hoirecon batch` run, see tests/_batch_support.py)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ._batch_support import ROOT, real_batch_output

TOOLS = Path(os.environ.get("HOIRECON_TOOLS", ROOT / ".tools"))
VALIDATE = ROOT / "scripts" / "validate_gltf.mjs"
BLENDER_CHECK = ROOT / "scripts" / "blender_check.py"


def _require(what: str, ok: bool, how: str) -> None:
    if ok:
        return
    msg = f"{what} is not available ({how})"
    if os.environ.get("HOIRECON_REQUIRE_CLIENTS") == "1":
        pytest.fail(f"HOIRECON_REQUIRE_CLIENTS=1 but {msg}")
    print(f"SKIP reason: {msg}")
    pytest.skip(msg)


@pytest.fixture(scope="module")
def validator():
    node = shutil.which("node")
    have = node is not None and (TOOLS / "node_modules" / "gltf-validator" / "package.json").is_file()
    _require("the glTF validator", have, "needs node and `make clients` (npm install gltf-validator into .tools/)")
    return node


@pytest.fixture(scope="module")
def blender():
    exe = shutil.which("blender")
    _require("Blender", exe is not None, "`make clients` installs the Debian package blender when run as root")
    return exe


@pytest.fixture(scope="module")
def real(anny_body):
    out, code, output = real_batch_output()
    assert (out / "camera" / "done").is_file() and (out / "astronaut" / "done").is_file(), output
    return out


def _validate(node, *files):
    res = subprocess.run([node, str(VALIDATE), *map(str, files)], capture_output=True, text=True, timeout=120)
    reports = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    return res.returncode, reports, res.stderr


def _blender(exe, folder, tmp_path, *extra):
    report = tmp_path / f"blender-{folder.name}.json"
    cmd = [exe, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(BLENDER_CHECK), "--",
           str(folder), "--json", str(report), *extra]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    data = json.loads(report.read_text()) if report.is_file() else None
    return res.returncode, data, res.stdout + res.stderr


def test_gltf_validator_finds_no_errors_in_real_exports(validator, real):
    code, reports, err = _validate(validator, real / "camera" / "scene.glb", real / "astronaut" / "scene.glb")
    assert code == 0, (reports, err)
    assert len(reports) == 2
    for r in reports:
        assert r["errors"] == 0 and r["warnings"] == 0, r


def test_gltf_validator_catches_a_broken_file(validator, tmp_path):
    """The check has teeth: a GLB whose POSITION max is wrong is reported as an error."""
    from hoirecon.export.mesh_io import glb_bytes

    v = np.array([[0, 0, 2], [1, 0, 2], [0, 1, 2]], np.float32)
    data = glb_bytes([("tri", v, np.array([[0, 1, 2]]), np.full((3, 4), 200, np.uint8))])
    jlen = struct.unpack_from("<I", data, 12)[0]
    gltf = json.loads(data[20 : 20 + jlen])
    gltf["accessors"][gltf["meshes"][0]["primitives"][0]["attributes"]["POSITION"]]["max"] = [5.0, 5.0, 5.0]
    j = json.dumps(gltf, separators=(",", ":")).encode()
    j += b" " * ((-len(j)) % 4)
    rest = data[20 + jlen :]
    bad = struct.pack("<III", 0x46546C67, 2, 12 + 8 + len(j) + len(rest)) + struct.pack("<II", len(j), 0x4E4F534A) + j + rest
    (tmp_path / "bad.glb").write_bytes(bad)
    code, reports, _ = _validate(validator, tmp_path / "bad.glb")
    assert code == 1 and reports[0]["errors"] >= 1
    assert any(m["code"] == "ACCESSOR_MAX_MISMATCH" for m in reports[0]["messages"]), reports


def test_blender_imports_glb_and_obj_upright_metric_coloured_in_contact(blender, real, tmp_path):
    code, report, log = _blender(blender, real / "astronaut", tmp_path)
    assert code == 0, log[-4000:]
    status = {c["check"]: c["status"] for c in report["checks"]}
    for name in ("glb: node names", "glb: placement (file +Y up -> Blender +Z up)", "glb: upright, metric height",
                 "glb: head up (+Z)", "glb: vertex colours reach the material",
                 "glb: exported colours (grey body, red contacts)", "glb: object at the contact body parts",
                 "obj: object names", "obj: 'human' placed as in the GLB", "obj: vertex colours",
                 "glb: photo camera", "glb: on the floor (world frame, Z = 0)"):  # fmt: skip
        assert status.get(name) == "PASS", (name, report)
    # the camera photo's person crouches behind the tripod: lower height limit
    code, report, log = _blender(blender, real / "camera", tmp_path, "--min-height", "1.2")
    assert code == 0, log[-4000:]


def test_blender_check_fails_an_upside_down_body(blender, real, tmp_path):
    """The head-up check has teeth: the same scene with the body flipped upside down fails it."""
    from hoirecon.export.mesh_io import from_gltf_frame, write_glb, write_obj
    from hoirecon.export.report import load_scene_meshes

    folder = tmp_path / "flipped"
    shutil.copytree(real / "astronaut", folder)
    specs = []
    for name, v, f, c in load_scene_meshes(folder / "scene.glb"):
        if name == "human":
            mid = 0.5 * (v[:, 1].min() + v[:, 1].max())
            v = v.copy()
            v[:, 1] = 2 * mid - v[:, 1]
            v[:, 0] = -v[:, 0]  # a rotation (not a mirror): 180 degrees about the depth axis
        rgba = np.concatenate([np.round(c * 255), np.full((len(c), 1), 255)], axis=1).astype(np.uint8)
        specs.append((name, from_gltf_frame(v), f, rgba))
    write_glb(folder / "scene.glb", specs)
    write_obj(folder / "scene.obj", specs)
    write_obj(folder / "human.obj", [s for s in specs if s[0] == "human"])
    code, report, log = _blender(blender, folder, tmp_path)
    assert code == 1, log[-3000:]
    status = {c["check"]: c["status"] for c in report["checks"]}
    assert status["glb: head up (+Z)"] == "FAIL" and status["glb: node names"] == "PASS"


def test_hoirecon_blender_saves_a_scene_seen_through_the_photo_camera(blender, real, tmp_path):
    """`hoirecon blender` (the shipped script, with the numpy.bool workaround): the .blend holds both
    meshes, photo_camera as the scene camera at the photo's resolution, the photo as its background."""
    from typer.testing import CliRunner

    from hoirecon.cli.main import app

    target = tmp_path / "astronaut.blend"
    r = CliRunner().invoke(app, ["blender", str(real / "astronaut"), "--blend", str(target), "--blender", blender])
    assert r.exit_code == 0 and target.is_file(), r.output
    assert [p.name for p in tmp_path.iterdir()] == ["astronaut.blend"]  # no temporary file left
    params = json.loads((real / "astronaut" / "params.json").read_text())
    probe = ("import bpy, json; s = bpy.context.scene; c = s.camera; print('PROBE ' + json.dumps({'objects': sorted("
             "o.name for o in s.objects if o.type == 'MESH'), 'camera': c.name, 'res': [s.render.resolution_x, "
             "s.render.resolution_y], 'backgrounds': len(c.data.background_images)}))")  # fmt: skip
    res = subprocess.run([blender, "-b", str(target), "--python-expr", probe], capture_output=True, text=True, timeout=300)
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("PROBE "))
    got = json.loads(line[6:])
    assert got["objects"][0] == "human" and got["objects"][1].startswith("object_") and len(got["objects"]) == 2
    assert got["camera"].startswith("photo_camera") and got["res"] == [params["camera"]["width"], params["camera"]["height"]]
    assert got["backgrounds"] == (1 if Path(params["image"]["path"]).is_file() else 0)


# ------------------------------------------------------------------------------- the viewer page

# Debian's Chromium, headless, as a user's browser with default settings: no --allow-file-access-from-files.
# WebGL runs on SwiftShader (no GPU); the network flags keep it from trying Google's hosts.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--enable-logging=stderr", "--v=0",
                  "--window-size=1200,1400", "--virtual-time-budget=20000"]  # fmt: skip


@pytest.fixture(scope="module")
def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    _require("Chromium", exe is not None, "`make clients` installs the Debian package chromium when run as root")
    return exe


def _page(exe, page: Path, tmp_path: Path, *extra: str, fragment: str = "") -> tuple[str, str]:
    """(DOM after the page's scripts ran, Chromium's log) of ``page`` opened as a file:// URL."""
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout, res.stderr


def _body_attrs(dom: str) -> dict[str, str]:
    import re

    tag = re.search(r"<body([^>]*)>", dom).group(1)
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


def _console_errors(log: str) -> list[str]:
    """Lines of Chromium's log that report the page's console errors or uncaught exceptions."""
    return [ln for ln in log.splitlines() if "CONSOLE" in ln and ("Uncaught" in ln or "rror" in ln)]


def _viewer_pixels(exe, page: Path, tmp_path: Path, rect: str, fragment: str = "") -> float:
    """Share of the viewer's canvas (``rect``: page x, y, w, h) that differs from its background
    (#eeeeee) by more than 40 of 255 in some channel, in a screenshot of the page."""
    from PIL import Image

    shot = tmp_path / "shot.png"
    _page(exe, page, tmp_path, f"--screenshot={shot}", fragment=fragment)
    x, y, w, h = (int(t) for t in rect.split(","))
    img = np.asarray(Image.open(shot).convert("RGB"), np.int16)
    assert img.shape[0] >= y + h and img.shape[1] >= x + w, (img.shape, rect)
    crop = img[y + 2 : y + h - 2, x + 2 : x + w - 2]
    return float((np.abs(crop - 238).max(axis=2) > 40).mean())


def _copy_results(real: Path, dst: Path, names: list[str]) -> Path:
    """A batch folder of ``names`` (scene.glb, params.json, done only: no pictures that could be
    mistaken for the viewer's pixels)."""
    for n in names:
        (dst / n).mkdir(parents=True)
        for f in ("scene.glb", "params.json", "done"):
            shutil.copy2(real / n / f, dst / n / f)
    return dst


def test_index_page_shows_the_scene_in_an_orbitable_viewer_from_file_url(chromium, real, tmp_path):
    """One reconstruction: the page opens its viewer at once from file://, without console errors, and
    the screenshot of the viewer shows the scene (not only its background)."""
    from hoirecon.export.report import write_index

    folder = _copy_results(real, tmp_path / "res", ["camera"]) / "camera"
    page = write_index(folder, turntables=False)
    assert (folder / "viewer.js").is_file() and (folder / "scene.glb.js").is_file()
    dom, log = _page(chromium, page, tmp_path, "--dump-dom")
    attrs = _body_attrs(dom)
    assert attrs.get("data-viewers-ready") == "1", (attrs, log[-2000:])
    assert "data-viewer-errors" not in attrs, attrs
    assert _console_errors(log) == [], _console_errors(log)
    rect = next(a for a in dom.split('data-rect="')[1:]).split('"')[0]
    w, h = (int(t) for t in rect.split(",")[2:])
    assert w > 300 and h > 300, rect
    share = _viewer_pixels(chromium, page, tmp_path, rect)
    assert share > 0.05, share  # the body and the tripod fill part of the view


def test_batch_page_loads_viewers_on_demand(chromium, real, tmp_path):
    """A batch page opens no viewer by itself (hundreds of scenes: browsers cap WebGL contexts); a
    link to a card (index.html#astronaut) opens that card's viewer only."""
    from hoirecon.export.report import write_index

    root = _copy_results(real, tmp_path / "batch", ["astronaut", "camera"])
    page = write_index(root, turntables=False)
    dom, log = _page(chromium, page, tmp_path, "--dump-dom")
    attrs = _body_attrs(dom)
    assert attrs.get("data-viewers-ready") == "0" and "data-viewer-errors" not in attrs, attrs
    assert "<canvas" not in dom
    dom, log = _page(chromium, page, tmp_path, "--dump-dom", fragment="astronaut")
    attrs = _body_attrs(dom)
    assert attrs.get("data-viewers-ready") == "1" and "data-viewer-errors" not in attrs, (attrs, log[-2000:])
    assert dom.count("<canvas") == 1 and dom.count("data-rect=") == 1
    assert _console_errors(log) == []
    rect = dom.split('data-rect="')[1].split('"')[0]
    assert _viewer_pixels(chromium, page, tmp_path, rect, fragment="astronaut") > 0.03


def test_viewer_keeps_at_most_eight_webgl_contexts(chromium, real, tmp_path):
    """Opening ten viewers closes the oldest: eight canvases stay, the rest are disposed, no errors."""
    from hoirecon.export.report import write_index

    folder = _copy_results(real, tmp_path / "res", ["camera"]) / "camera"
    write_index(folder, turntables=False)
    page = folder / "ten.html"
    page.write_text(
        "<!doctype html><html><body><script src='viewer.js'></script><script>"
        "var n=0,errs=[];window.onerror=function(m){errs.push(m);document.body.dataset.errors=errs.join('|');};"
        "for(var i=0;i<10;i++){var d=document.createElement('div');d.style.width='200px';d.style.height='150px';"
        "document.body.appendChild(d);HoireconViewer.open(d,'scene.glb.js','camera',{onready:function(){n++;"
        "document.body.dataset.ready=n;document.body.dataset.live=HoireconViewer.live.length;"
        "document.body.dataset.canvases=document.querySelectorAll('canvas').length;},"
        "onerror:function(e){errs.push(String(e));document.body.dataset.errors=errs.join('|');}});}"
        "</script></body></html>"
    )
    dom, log = _page(chromium, page, tmp_path, "--dump-dom")
    attrs = _body_attrs(dom)
    assert "data-errors" not in attrs and _console_errors(log) == [], (attrs, _console_errors(log))
    assert attrs.get("data-live") == "8" and attrs.get("data-canvases") == "8", attrs
    assert attrs.get("data-ready") == "8", attrs  # the two closed before their scene arrived never render


def test_blender_reposes_the_skinned_human(blender, real, tmp_path):
    """Blender imports the human as a mesh with an Armature modifier and Anny's 104 bones; at the bind
    pose it is exactly human.obj; turning the left forearm 60 degrees moves the forearm and hand (a
    few thousand vertices, tens of centimetres), not the whole body."""
    report = tmp_path / "pose.json"
    cmd = [blender, "-b", "--factory-startup", "--python-exit-code", "1", "--python",
           str(ROOT / "scripts" / "blender_pose_check.py"), "--", str(real / "camera"), "lowerarm01.L", str(report)]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and report.is_file(), (res.stdout + res.stderr)[-3000:]
    got = json.loads(report.read_text())
    params = json.loads((real / "camera" / "params.json").read_text())
    assert params["body"]["skin"]["joints"] == got["bones"] == 104 and got["armatures"] == 1, got
    assert got["modifiers"] == ["ARMATURE"] and got["bind_error_m"] is not None and got["bind_error_m"] < 1e-4, got
    assert got["moved_max_m"] > 0.1 and 200 < got["moved_count"] < got["vertices"] // 3, got
