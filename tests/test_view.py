"""``hoirecon view`` (index.html, turntables) and ``hoirecon export`` (PLY, USD)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import trimesh
from typer.testing import CliRunner

from hoirecon import batch as B
from hoirecon.cli.main import app
from hoirecon.export.mesh_io import write_glb
from hoirecon.export.report import (
    TURNTABLE_PNG,
    load_scene_meshes,
    read_floor,
    render_turntable,
    result_folders,
    write_index,
    write_turntable,
)

from ._batch_support import write_small_inputs

runner = CliRunner()


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("view")
    src = root / "in"
    write_small_inputs(src, good=2)
    out = root / "out"
    B.run_batch(src, out, pipeline_factory="tests._batch_support:fake_factory", turntable=False)
    return out


def _sphere(centre, radius, color):
    s = trimesh.creation.icosphere(subdivisions=2, radius=radius)
    v = (np.asarray(s.vertices) + centre).astype(np.float32)
    return v, np.asarray(s.faces, np.int64), np.tile(np.asarray(color, np.float32), (len(v), 1))


def test_turntable_frames_are_upright_and_not_mirrored():
    """Frame 0 looks from +Z (the photo's camera side): +X is on the right, +Y at the top."""
    red = ("red", *_sphere([0.5, 0.0, 0.0], 0.15, [1, 0, 0]))
    green = ("green", *_sphere([0.0, 0.5, 0.0], 0.15, [0, 1, 0]))
    blue = ("blue", *_sphere([0.0, 0.0, 0.0], 0.1, [0, 0, 1]))
    frames = render_turntable([red, green, blue], views=4, size=96)
    assert len(frames) == 4 and frames[0].shape == (96, 96, 3) and frames[0].dtype == np.uint8

    def centroid(img, ch):
        m = (img[..., ch] > 120) & (img[..., (ch + 1) % 3] < 60) & (img[..., (ch + 2) % 3] < 60)
        ys, xs = np.nonzero(m)
        return xs.mean(), ys.mean(), m.sum()

    rx, ry, rn = centroid(frames[0], 0)
    gx, gy, gn = centroid(frames[0], 1)
    bx, by, _ = centroid(frames[0], 2)
    assert rn > 20 and gn > 20
    assert rx > bx + 10 and abs(ry - by) < 5  # +X right
    assert gy < by - 10 and abs(gx - bx) < 5  # +Y up
    rx2, _, _ = centroid(frames[2], 0)  # from behind, +X is on the left
    bx2, _, _ = centroid(frames[2], 2)
    assert rx2 < bx2 - 10


def _box(name, centre, extents, color):
    b = trimesh.creation.box(extents=extents)
    v = (np.asarray(b.vertices) + centre).astype(np.float32)
    return name, v, np.asarray(b.faces, np.int64), np.tile(np.asarray(color, np.float32), (len(v), 1))


# glTF frame, floor y = 0: a box standing on it, one floating 0.5 m above it, one half sunk into it
_STANDING = _box("a_standing", [0.0, 0.4, 0.0], [0.4, 0.8, 0.4], [0.8, 0.2, 0.2])
_FLOATING = _box("b_floating", [0.7, 0.65, 0.0], [0.3, 0.3, 0.3], [0.2, 0.2, 0.8])
_SUNK = _box("c_sunk", [-0.6, 0.0, 0.0], [0.3, 0.3, 0.3], [0.2, 0.8, 0.2])
_LEVEL = (np.zeros(3), np.array([0.0, 1.0, 0.0]))
_BG = np.array([237, 237, 237], np.uint8)  # round(0.93 * 255)


def _lum(px):
    return np.asarray(px, np.float64) @ [0.299, 0.587, 0.114]


def test_turntable_floor_grid_horizon_and_penetration():
    size, el, fov = 128, 15.0, 35.0
    meshes = [_STANDING, _FLOATING, _SUNK]
    plain = render_turntable(meshes, views=2, size=size, elevation_deg=el, fov_deg=fov)
    assert all(np.array_equal(a, b) for a, b in zip(plain, render_turntable(meshes, views=2, size=size, floor=None)))
    img = render_turntable(meshes, views=2, size=size, elevation_deg=el, fov_deg=fov, floor=_LEVEL)[0].astype(int)
    old = plain[0].astype(int)
    bg_old = np.all(old == _BG, axis=-1)  # background without the floor
    floor_px = bg_old & np.any(img != _BG, axis=-1)  # the floor where there was background
    # the floor lies below the horizon (el degrees below the optical axis) and nowhere above it
    horizon_row = size / 2 * (1 - math.tan(math.radians(el)) / math.tan(math.radians(fov) / 2))
    rows = np.nonzero(floor_px)[0]
    assert floor_px.sum() > 0.3 * size * size and rows.min() > horizon_row
    assert np.array_equal(img[: int(horizon_row)], old[: int(horizon_row)])  # sky and meshes above it unchanged
    assert floor_px[-1].all()  # the bottom row sees the floor in front of the scene
    # light floor (darker than the background) with darker grid lines
    lum = _lum(img[floor_px])
    assert np.median(lum) < _lum(_BG) - 15 and np.percentile(lum, 3) < np.median(lum) - 40
    # below the floating box (in the image) there was background and now there is floor
    blue = (old[..., 2] > old[..., 0] + 60)
    ys, xs = np.nonzero(blue)
    col = int(np.median(xs))
    below = ys[xs == col].max() + 3
    assert bg_old[below, col] and floor_px[below, col]
    # meshes in front of the plane are unchanged (the standing and floating boxes)...
    for ch, other in ((0, 1), (2, 0)):  # red box, blue box
        m = (old[..., ch] > old[..., other] + 60)
        ys, xs = np.nonzero(m)
        upper = m & (np.arange(size)[:, None] < np.percentile(ys, 80))
        assert np.abs(img[upper] - old[upper]).max() <= 1
    # ... the sunk box's lower half is seen through the floor: veiled, not hidden
    green = (old[..., 1] > old[..., 0] + 60) & (old[..., 1] > old[..., 2] + 60)
    ys, _ = np.nonzero(green)
    top, bottom = green & (np.arange(size)[:, None] < ys.min() + 3), green & (np.arange(size)[:, None] > ys.max() - 3)
    assert np.abs(img[top] - old[top]).max() <= 1
    veiled = img[bottom]
    assert np.all(np.abs(veiled - old[bottom]).max(-1) > 20)  # changed ...
    assert np.all(veiled[:, 1] > veiled[:, 0] + 10)  # ... but still greenish


def test_turntable_turns_about_a_tilted_floor_normal():
    """A floor tilted 12 degrees toward +X (glTF): image up follows its normal, so the upright box leans
    left in frame 0 (its top left of its bottom), the horizon stays level, and the picture changes."""
    size = 128
    a = math.radians(12.0)
    tilted = (np.zeros(3), np.array([math.sin(a), math.cos(a), 0.0]) * 3.0)  # any length
    level = render_turntable([_STANDING], views=1, size=size, floor=_LEVEL)[0].astype(int)
    tilt = render_turntable([_STANDING], views=1, size=size, floor=tilted)[0].astype(int)
    assert not np.array_equal(level, tilt)

    def lean(img):
        m = (img[..., 0] > img[..., 1] + 60)
        ys, xs = np.nonzero(m)
        lo, hi = np.percentile(ys, 20), np.percentile(ys, 80)
        return xs[ys < lo].mean() - xs[ys > hi].mean()  # top x minus bottom x

    assert abs(lean(level)) < 1.5 and lean(tilt) < -4
    # the floor fills the bottom row in both, and its far edge (the top-most floor row) is level
    for img in (level, tilt):
        floor_px = np.any(img != _BG, axis=-1) & ~(img[..., 0] > img[..., 1] + 60)
        assert floor_px[-1].all()
        first = [np.nonzero(floor_px[:, c])[0].min() for c in (3, size - 4)]
        assert abs(first[0] - first[1]) <= 1
    # unusable floors are ignored
    for bad in ((np.zeros(3), np.zeros(3)), (np.zeros(2), np.ones(3)), (np.full(3, np.nan), np.ones(3))):
        assert np.array_equal(render_turntable([_STANDING], views=1, size=size, floor=bad)[0],
                              render_turntable([_STANDING], views=1, size=size)[0])  # fmt: skip


def _camera_frame(mesh):
    name, v, f, c = mesh
    rgba = np.concatenate([np.round(c * 255), np.full((len(c), 1), 255)], 1).astype(np.uint8)
    return name, v * [1.0, -1.0, -1.0] + [0.0, 1.2, 3.0], f, rgba  # the scene 3 m in front, floor 1.2 m below


def test_write_turntable_reads_the_floor_from_params(tmp_path):
    from PIL import Image

    write_glb(tmp_path / "scene.glb", [_camera_frame(m) for m in (_STANDING, _SUNK)])
    meshes = load_scene_meshes(tmp_path / "scene.glb")
    def strip():
        return np.asarray(Image.open(tmp_path / TURNTABLE_PNG).convert("RGB")).astype(int)

    none = np.concatenate(render_turntable(meshes, views=2, size=64), axis=1).astype(int)

    floor = {"normal": [0.0, -1.0, 0.0], "point": [0.3, 1.2, 2.0], "visible": True, "confidence": 0.7, "supports": []}
    params = {"gravity": {"up": [0.0, -1.0, 0.0], "sigma_deg": 3.1, "confidence": 0.8, "sources": []}, "floor": floor}
    (tmp_path / "params.json").write_text(json.dumps(params))
    point, normal = read_floor(tmp_path)
    assert np.allclose(point, [0.3, -1.2, -2.0]) and np.allclose(normal, [0.0, 1.0, 0.0])  # glTF frame
    gif, png = write_turntable(tmp_path, views=2, size=64)
    assert gif.is_file() and png == tmp_path / TURNTABLE_PNG
    with_floor = strip()
    assert with_floor.shape == (64, 128, 3)
    assert np.array_equal(with_floor, np.concatenate(render_turntable(meshes, views=2, size=64, floor=(point, normal)), 1))
    assert np.any(np.all(with_floor != _BG, -1) & np.all(none == _BG, -1))  # the floor is drawn
    # converted right: the standing box (on y = 0 in glTF) is entirely in front of the floor, unchanged
    red = none[..., 0] > none[..., 1] + 60
    assert red.sum() > 50 and np.abs(with_floor[red] - none[red]).max() <= 1

    for text in (json.dumps({**params, "floor": None}), json.dumps({"gravity": params["gravity"]}), "{not json",
                 json.dumps({"floor": {"normal": [0, 0, 0], "point": [0, 1, 2]}}),
                 json.dumps({"floor": {"normal": "up", "point": [0, 1, 2]}}), json.dumps([1, 2])):  # fmt: skip
        (tmp_path / "params.json").write_text(text)
        assert read_floor(tmp_path) is None, text
        write_turntable(tmp_path, views=2, size=64)
        assert np.array_equal(strip(), none), text
    (tmp_path / "params.json").unlink()
    assert read_floor(tmp_path) is None


def test_index_for_a_batch_and_for_one_result(batch_dir):
    assert [p.name for p in result_folders(batch_dir)] == ["broken", "good_0", "good_1", "notes"]
    html = (batch_dir / "index.html").read_text()  # written by the batch
    assert html.count('class="card ok"') == 2 and html.count('class="card failed"') == 2
    assert "summary.json" in html and "images per minute" in html and "0.4 cm" in html
    res = runner.invoke(app, ["view", str(batch_dir)])
    assert res.exit_code == 0, res.output
    assert (batch_dir / "good_0" / "turntable.gif").is_file() and (batch_dir / "good_0" / "turntable.png").is_file()
    html = (batch_dir / "index.html").read_text()
    assert 'src="good_0/turntable.gif"' in html and 'href="good_0/scene.glb"' in html
    # one result folder: links are relative to it
    path = write_index(batch_dir / "good_1")
    one = path.read_text()
    assert 'src="overlay.png"' in one and 'href="params.json"' in one and "cup" in one


def test_index_escapes_text(batch_dir, tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "error.txt").write_text("<script>alert(1)</script> & more\n")
    html = write_index(folder, turntables=False).read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "&amp; more" in html


def test_view_and_export_errors(tmp_path):
    res = runner.invoke(app, ["view", str(tmp_path / "none")])
    assert res.exit_code == 2 and "not a folder" in res.output
    res = runner.invoke(app, ["view", str(tmp_path)])
    assert res.exit_code == 2 and "no reconstruction folders" in res.output
    res = runner.invoke(app, ["export", str(tmp_path), "--format", "ply"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["view", "--help"])
    assert res.exit_code == 0 and "Examples:" in res.output
    res = runner.invoke(app, ["export", "--help"])
    assert res.exit_code == 0 and "Examples:" in res.output and "FBX" in res.output


def test_export_ply_keeps_meshes_and_colours(batch_dir):
    res = runner.invoke(app, ["export", str(batch_dir), "--format", "ply"])
    assert res.exit_code == 0, res.output
    folder = batch_dir / "good_0"
    glb = trimesh.load(folder / "scene.glb", process=False)
    human = glb.geometry["human"]
    ply = trimesh.load(folder / "human.ply", process=False)
    assert np.allclose(ply.vertices, human.vertices, atol=1e-6) and len(ply.faces) == len(human.faces)
    assert np.array_equal(ply.visual.vertex_colors[:, :3], human.visual.vertex_attributes["color"][:, :3])
    scene = trimesh.load(folder / "scene.ply", process=False)
    assert len(scene.vertices) == sum(len(g.vertices) for g in glb.geometry.values())
    assert (folder / "object.ply").is_file() and not (batch_dir / "broken" / "scene.ply").exists()


def test_export_usd(batch_dir):
    pytest.importorskip("pxr")
    from pxr import Usd, UsdGeom

    res = runner.invoke(app, ["export", str(batch_dir / "good_1"), "--format", "usd"])
    assert res.exit_code == 0, res.output
    stage = Usd.Stage.Open(str(batch_dir / "good_1" / "scene.usda"))
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.y and UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    glb = trimesh.load(batch_dir / "good_1" / "scene.glb", process=False)
    human = UsdGeom.Mesh(stage.GetPrimAtPath("/hoirecon/human"))
    pts = np.asarray(human.GetPointsAttr().Get())
    assert np.allclose(pts, glb.geometry["human"].vertices, atol=1e-6)
    col = np.asarray(UsdGeom.PrimvarsAPI(human).GetPrimvar("displayColor").Get())
    assert col.shape == (len(pts), 3) and np.allclose(col, glb.geometry["human"].visual.vertex_attributes["color"][:, :3] / 255, atol=1e-6)
    assert stage.GetPrimAtPath("/hoirecon/object_cup").IsValid()
    assert not list((batch_dir / "good_1").glob(".*part*"))
    assert json.loads((batch_dir / "good_1" / "done").read_text())["status"] == "ok"


def test_index_card_shows_the_interaction(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    inter = {"mode": "sit", "how": "analysis-by-synthesis",
             "modes": [{"name": "sit", "evidence": 0.79, "terms": {}, "agreement": 0.4},
                       {"name": "<b>hand_on</b>", "evidence": 0.07, "terms": {}, "agreement": None}]}  # fmt: skip
    (folder / "params.json").write_text(json.dumps({"object": {"category": "chair"}, "contacts": {"interaction": inter}}))
    html = write_index(folder, turntables=False).read_text()
    assert "sit (evidence 0.79; &lt;b&gt;hand_on&lt;/b&gt; 0.07; analysis-by-synthesis)" in html
    (folder / "params.json").write_text(json.dumps({"object": {"category": "chair"}, "contacts": {"interaction": 3}}))
    assert "<th>interaction</th><td>–</td>" in write_index(folder, turntables=False).read_text()


def test_index_embeds_each_scene_for_the_viewer(batch_dir):
    """scene.glb.js carries scene.glb byte for byte (base64, keyed by the folder's name) and follows a
    newer scene.glb; viewer.js is the shipped bundle; a card without scene.glb gets no viewer."""
    import base64
    import os

    from hoirecon.export.report import SCENE_SCRIPT, VIEWER_JS

    write_index(batch_dir, turntables=False)
    html = (batch_dir / "index.html").read_text()
    shipped = Path(__file__).resolve().parents[1] / "hoirecon" / "data" / "viewer" / VIEWER_JS
    assert (batch_dir / VIEWER_JS).read_bytes() == shipped.read_bytes() and "<script src='viewer.js'>" in html
    for name in ("good_0", "good_1"):
        text = (batch_dir / name / SCENE_SCRIPT).read_text()
        key, b64 = text[len("hoireconScene(") : -len(");\n")].split(",")
        assert json.loads(key) == name
        assert base64.b64decode(json.loads(b64)) == (batch_dir / name / "scene.glb").read_bytes()
        assert f'data-src="{name}/{SCENE_SCRIPT}" data-key="{name}"' in html
    assert not (batch_dir / "broken" / SCENE_SCRIPT).exists() and html.count('class="viewer"') == 2
    glb = batch_dir / "good_0" / "scene.glb"
    glb.write_bytes(glb.read_bytes() + b"\0" * 4)
    st = (batch_dir / "good_0" / SCENE_SCRIPT).stat()
    os.utime(glb, (st.st_mtime + 5, st.st_mtime + 5))
    write_index(batch_dir, turntables=False)
    b64 = (batch_dir / "good_0" / SCENE_SCRIPT).read_text().split(",")[1][:-3]
    assert base64.b64decode(json.loads(b64)) == glb.read_bytes()
    one = write_index(batch_dir / "good_1", turntables=False).read_text()
    assert "<body class='single'>" in one and 'data-src="scene.glb.js"' in one
