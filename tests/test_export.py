"""Tests for hoirecon.export: GLB/OBJ round trips, params.json, overlay, atomicity, frames."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import trimesh

from hoirecon.errors import InputError
from hoirecon.fsutil import MARKER, write_marker

from hoirecon.export import build_params, render_overlay, write_glb, write_obj, write_outputs
from hoirecon.export import overlay as overlay_mod
from hoirecon.export.mesh_io import glb_json, to_gltf_frame
from hoirecon.export.params import jsonable
from hoirecon.export.writer import (
    HUMAN_COLOR,
    HUMAN_CONTACT_COLOR,
    OBJECT_COLOR,
    OBJECT_CONTACT_COLOR,
    OUTPUT_FILES,
)
from hoirecon.types import (
    BodyFit,
    Box,
    CameraIntrinsics,
    ContactSet,
    Detections,
    FitResult,
    ImageInput,
    ObjectDetection,
    ObjectFit,
    ObjectMesh,
    PersonDetection,
    Reconstruction,
)

H, W = 480, 640
PHOTO_RGB = (20, 180, 40)


def _camera(w=W, h=H) -> CameraIntrinsics:
    return CameraIntrinsics(fx=600.0 * w / W, fy=600.0 * h / H, cx=0.5 * w, cy=0.5 * h, width=w, height=h, source="user")


def _body_mesh():
    """A 0.4 x 1.7 x 0.25 m box, subdivided, standing in front of the camera (head at camera -y)."""
    box = trimesh.creation.box(extents=(0.4, 1.7, 0.25)).subdivide().subdivide()
    v = np.asarray(box.vertices, np.float64) + np.array([-0.3, 0.0, 3.0])
    return v.astype(np.float32), np.asarray(box.faces, np.int64)


def _object_fit(category="mug", radius=0.15) -> ObjectFit:
    ico = trimesh.creation.icosphere(subdivisions=2, radius=radius)
    canon = (np.asarray(ico.vertices) + np.array([0.0, -radius, 0.0])).astype(np.float32)  # base at y = 0
    part = np.zeros(len(canon), np.int16)
    part[canon[:, 0] > 0.05] = 1
    mesh = ObjectMesh(
        category=category, vertices=canon, faces=np.asarray(ico.faces, np.int64), part_of_vertex=part,
        part_names=("body", "grip"), source="primitive",
    )
    a = math.radians(30.0)
    R = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]], np.float32)
    t = np.array([0.35, 0.25, 2.5], np.float32)
    s = 1.2
    verts = (s * canon.astype(np.float64) @ R.T.astype(np.float64) + t).astype(np.float32)
    return ObjectFit(mesh=mesh, rotation=R, translation=t, scale=s, vertices=verts)


def _recon(with_probs=False, rgb=None, camera=None, category="mug") -> Reconstruction:
    camera = camera or _camera()
    if rgb is None:
        rgb = np.empty((camera.height, camera.width, 3), np.uint8)
        rgb[:] = PHOTO_RGB
    bv, bf = _body_mesh()
    obj = _object_fit(category)
    nb, no = len(bv), len(obj.vertices)
    human_idx = np.flatnonzero(bv[:, 0] > bv[:, 0].max() - 1e-6)[:10].astype(np.int64)  # right side
    obj_idx = np.flatnonzero(obj.mesh.part_of_vertex == 1)[:8].astype(np.int64)
    mask = np.zeros((camera.height, camera.width), bool)
    mask[100:300, 200:300] = True
    omask = np.zeros_like(mask)
    omask[250:320, 380:450] = True
    person = PersonDetection(
        box=Box(200.0, 100.0, 300.0, 300.0), mask=mask, keypoints=np.zeros((33, 2), np.float32),
        visibility=np.ones(33, np.float32), world_keypoints=np.zeros((33, 3), np.float32), backend="fake", score=0.9,
    )
    odet = ObjectDetection(label="coffee mug", box=Box(380.0, 250.0, 450.0, 320.0), mask=omask, backend="fake", score=0.8)
    body = BodyFit(
        model_name="box", vertices=bv, faces=bf, keypoints3d=np.zeros((2, 3), np.float32),
        keypoint_names=("head", "pelvis"), part_of_vertex=np.zeros(nb, np.int16), part_names=("torso",),
        params={"betas": np.arange(3, dtype=np.float32), "gender": "neutral", "scale": np.float64(1.0)},
        reprojection_error_px=float("nan"),
    )
    fit = FitResult(
        body=body, object=obj, losses={"total": np.float32(1.5), "contact": 0.25},
        body_translation=np.array([0.0, 0.1, 0.0], np.float32),
    )
    hp = op = None
    if with_probs:
        hp = np.linspace(0.0, 1.0, nb).astype(np.float32)
        op = np.full(no, 0.5, np.float32)
    contacts = ContactSet(
        human_vertices=human_idx, object_vertices=obj_idx, pairs=(("right_hand", "grip"),),
        pair_of_human_vertex=np.zeros(len(human_idx), np.int16), pair_of_object_vertex=np.zeros(len(obj_idx), np.int16),
        source="heuristic", human_prob=hp, object_prob=op,
    )
    image = ImageInput(path=Path("/photos/person_with_mug.jpg"), rgb=rgb, camera=camera)
    return Reconstruction(
        image=image, detections=Detections(person=person, object=odet), fit=fit, contacts=contacts,
        config={"export": {"alpha": 0.6}, "device": "cpu", "paths": (Path("/a"), Path("/b")), "tol": np.float32(0.5)},
        timings={"detect": 0.12, "fit": np.float64(3.4)},
    )


# ---------------------------------------------------------------------------------------------- GLB


def _glb_chunks(path):
    data = Path(path).read_bytes()
    magic, version, length = struct.unpack_from("<III", data, 0)
    assert magic == 0x46546C67 and version == 2 and length == len(data)
    jlen, jtype = struct.unpack_from("<II", data, 12)
    assert jtype == 0x4E4F534A and jlen % 4 == 0
    gltf = json.loads(data[20 : 20 + jlen])
    blen, btype = struct.unpack_from("<II", data, 20 + jlen)
    assert btype == 0x004E4942
    binary = data[28 + jlen : 28 + jlen + blen]
    assert gltf["buffers"][0]["byteLength"] <= len(binary)
    return gltf, binary


def _accessor(gltf, binary, i):
    acc = gltf["accessors"][i]
    view = gltf["bufferViews"][acc["bufferView"]]
    dtype = {5126: "<f4", 5121: "u1", 5125: "<u4", 5123: "<u2"}[acc["componentType"]]
    ncomp = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}[acc["type"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    arr = np.frombuffer(binary, dtype=dtype, count=acc["count"] * ncomp, offset=start)
    return arr.reshape(acc["count"], ncomp) if ncomp > 1 else arr


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    recon = _recon()
    out = tmp_path_factory.mktemp("export") / "out"
    paths = write_outputs(recon, out, frame="camera")  # the glTF camera frame: the checks below compare with it
    return recon, out, paths


def test_all_files_written(written):
    recon, out, paths = written
    assert set(paths) == set(OUTPUT_FILES)
    for name, p in paths.items():
        assert p == out / name and p.is_file() and p.stat().st_size > 0
    assert sorted(os.listdir(out)) == sorted(OUTPUT_FILES + (".hoirecon",))
    assert not [n for n in os.listdir(out.parent) if n.startswith(".")]  # no temp folders left


def test_glb_roundtrip_trimesh(written):
    recon, out, paths = written
    scene = trimesh.load(paths["scene.glb"], process=False)
    assert isinstance(scene, trimesh.Scene)
    assert set(scene.geometry) == {"human", "object_mug"}
    assert set(scene.graph.nodes_geometry) == {"human", "object_mug"}
    for name, v_cam in (("human", recon.fit.body.vertices), ("object_mug", recon.fit.object.vertices)):
        geom = scene.geometry[name]
        assert len(geom.vertices) == len(v_cam)
        expected = np.asarray(v_cam, np.float64) * np.array([1.0, -1.0, -1.0])
        np.testing.assert_allclose(geom.vertices, expected, atol=1e-5)
        transform, geom_name = scene.graph[name]
        assert geom_name == name
        np.testing.assert_allclose(transform, np.eye(4))
    np.testing.assert_array_equal(scene.geometry["human"].faces, recon.fit.body.faces)
    np.testing.assert_array_equal(scene.geometry["object_mug"].faces, recon.fit.object.mesh.faces)


def test_glb_json_materials_and_colors(written):
    recon, out, paths = written
    gltf, binary = _glb_chunks(paths["scene.glb"])
    assert gltf["asset"]["version"] == "2.0"
    assert [n["name"] for n in gltf["nodes"]] == ["human", "object_mug", "photo_camera"]
    assert [m["name"] for m in gltf["meshes"]] == ["human", "object_mug"]
    assert gltf["scenes"][gltf["scene"]]["nodes"] == [0, 1, 2]
    con = recon.contacts
    expected_colors = {
        "human": (HUMAN_COLOR, HUMAN_CONTACT_COLOR, con.human_vertices, len(recon.fit.body.vertices)),
        "object_mug": (OBJECT_COLOR, OBJECT_CONTACT_COLOR, con.object_vertices, len(recon.fit.object.vertices)),
    }
    for mesh in gltf["meshes"]:
        prim = mesh["primitives"][0]
        attrs = prim["attributes"]
        assert {"POSITION", "NORMAL", "COLOR_0"} <= set(attrs)
        assert isinstance(prim.get("material"), int)
        mat = gltf["materials"][prim["material"]]
        assert mat["pbrMetallicRoughness"]["baseColorFactor"] == [1.0, 1.0, 1.0, 1.0]
        assert mat["doubleSided"] is True
        col_acc = gltf["accessors"][attrs["COLOR_0"]]
        assert col_acc["componentType"] == 5121 and col_acc["normalized"] is True and col_acc["type"] == "VEC4"
        pos_acc = gltf["accessors"][attrs["POSITION"]]
        assert "min" in pos_acc and "max" in pos_acc
        for view in gltf["bufferViews"]:
            assert view["byteOffset"] % 4 == 0

        base, contact, idx, nv = expected_colors[mesh["name"]]
        colors = _accessor(gltf, binary, attrs["COLOR_0"])
        assert colors.shape == (nv, 4)
        is_contact = np.zeros(nv, bool)
        is_contact[idx] = True
        assert (colors[is_contact, :3] == contact).all()
        assert (colors[~is_contact, :3] == base).all()
        assert (colors[:, 3] == 255).all()
        normals = _accessor(gltf, binary, attrs["NORMAL"])
        np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
        pos = _accessor(gltf, binary, attrs["POSITION"])
        np.testing.assert_allclose(pos.min(0), pos_acc["min"], atol=1e-6)
        np.testing.assert_allclose(pos.max(0), pos_acc["max"], atol=1e-6)
        idx_arr = _accessor(gltf, binary, prim["indices"])
        assert idx_arr.max() < nv
    assert glb_json(paths["scene.glb"]) == gltf


def test_glb_normals_point_outward(written):
    """Winding survives the frame change (a rotation): vertex normals point away from the centre."""
    recon, out, paths = written
    gltf, binary = _glb_chunks(paths["scene.glb"])
    for mesh in gltf["meshes"]:
        attrs = mesh["primitives"][0]["attributes"]
        pos = _accessor(gltf, binary, attrs["POSITION"])
        nrm = _accessor(gltf, binary, attrs["NORMAL"])
        outward = np.einsum("ij,ij->i", pos - pos.mean(0), nrm)
        assert (outward > 0).all()


def test_upright_in_gltf_frame(written):
    """Head up in the image (camera -y) -> larger +Y in the export; the front faces +Z (the camera)."""
    recon, out, paths = written
    scene = trimesh.load(paths["scene.glb"], process=False)
    v_cam = recon.fit.body.vertices
    v_out = np.asarray(scene.geometry["human"].vertices)
    head = int(np.argmin(v_cam[:, 1]))  # top of the body in the image
    feet = int(np.argmax(v_cam[:, 1]))
    assert v_out[head, 1] > v_out[feet, 1] + 1.5
    near = int(np.argmin(v_cam[:, 2]))  # the side closest to the camera
    far = int(np.argmax(v_cam[:, 2]))
    assert v_out[near, 2] > v_out[far, 2]
    # the whole scene sits in front of the camera, i.e. at negative Z in the exported frame
    assert (v_out[:, 2] < 0).all()


def test_to_gltf_frame_is_rotation():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(10, 3))
    out = to_gltf_frame(v)
    np.testing.assert_allclose(out, v * [1, -1, -1], atol=1e-6)
    R = np.diag([1.0, -1.0, -1.0])
    assert np.isclose(np.linalg.det(R), 1.0)


# ---------------------------------------------------------------------------------------------- OBJ


def _parse_obj(path):
    objects, order = {}, []
    cur = None
    verts = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if parts[0] == "o":
            cur = parts[1]
            order.append(cur)
            objects[cur] = {"v": [], "f": []}
        elif parts[0] == "v":
            row = [float(x) for x in parts[1:]]
            verts.append(row)
            objects[cur]["v"].append(row)
        elif parts[0] == "f":
            objects[cur]["f"].append([int(x.split("/")[0]) for x in parts[1:]])
    return order, {k: (np.array(d["v"]), np.array(d["f"])) for k, d in objects.items()}, np.array(verts)


def test_obj_roundtrip(written):
    recon, out, paths = written
    order, objs, all_v = _parse_obj(paths["scene.obj"])
    assert order == ["human", "object_mug"]
    base = 0
    for name, v_cam, faces in (
        ("human", recon.fit.body.vertices, recon.fit.body.faces),
        ("object_mug", recon.fit.object.vertices, recon.fit.object.mesh.faces),
    ):
        v, f = objs[name]
        assert v.shape == (len(v_cam), 6)
        np.testing.assert_allclose(v[:, :3], np.asarray(v_cam, np.float64) * [1, -1, -1], atol=1e-5)
        assert ((v[:, 3:] >= 0) & (v[:, 3:] <= 1)).all()
        np.testing.assert_array_equal(f - 1 - base, faces)  # 1-based, global numbering
        base += len(v)
    hv = objs["human"][0]
    idx = recon.contacts.human_vertices
    np.testing.assert_allclose(hv[idx, 3:], np.broadcast_to(np.array(HUMAN_CONTACT_COLOR) / 255.0, (len(idx), 3)), atol=1e-3)

    for single, name, v_cam in (("human.obj", "human", recon.fit.body.vertices),
                                ("object.obj", "object_mug", recon.fit.object.vertices)):
        order, objs, _ = _parse_obj(paths[single])
        assert order == [name]
        np.testing.assert_allclose(objs[name][0][:, :3], np.asarray(v_cam, np.float64) * [1, -1, -1], atol=1e-5)
        assert objs[name][1].min() == 1

    # trimesh reads the same geometry (vertex count preserved without processing)
    m = trimesh.load(paths["object.obj"], process=False, force="mesh")
    assert len(m.vertices) == len(recon.fit.object.vertices)


def test_glb_camera_reproduces_the_photo_projection(written):
    """The exported ``photo_camera`` (glTF: looking down -Z, +Y up, yfov and aspect) projects the
    exported meshes where the photo's intrinsics project the camera-frame meshes: within a pixel."""
    import math

    from hoirecon.export.mesh_io import CAMERA_NODE

    recon, out, paths = written
    gltf, binary = _glb_chunks(paths["scene.glb"])
    (cam,) = gltf["cameras"]
    node = next(n for n in gltf["nodes"] if n.get("camera") == 0)
    assert node["name"] == CAMERA_NODE and "matrix" not in node and "rotation" not in node and "translation" not in node
    assert gltf["nodes"].index(node) in gltf["scenes"][0]["nodes"]
    c = recon.image.original_camera()
    yfov, aspect = cam["perspective"]["yfov"], cam["perspective"]["aspectRatio"]
    assert yfov == pytest.approx(2 * math.atan(c.height / (2 * c.fy))) and aspect == pytest.approx(c.width / c.height)
    scene = trimesh.load(paths["scene.glb"], process=False)
    for name, v_cam in (("human", recon.fit.body.vertices), ("object_mug", recon.fit.object.vertices)):
        g = np.asarray(scene.geometry[name].vertices, np.float64)  # glTF frame, as a reader sees it
        f = 0.5 * c.height / math.tan(0.5 * yfov)  # glTF perspective: NDC y = y / (-z tan(yfov / 2))
        u = 0.5 * c.width + f * g[:, 0] / -g[:, 2]
        v = 0.5 * c.height - f * g[:, 1] / -g[:, 2]
        ref = c.project(np.asarray(v_cam, np.float64))
        assert np.abs(np.stack([u, v], 1) - ref).max() < 1.0
    assert set(scene.graph.nodes_geometry) == {"human", "object_mug"}


def _pitched_recon(pitch_deg=20.0):
    """``_recon``'s scene seen by a camera pitched down ``pitch_deg``: the box body stands on a known
    floor (its bottom face), hips and shoulders say it faces the camera; the fit's floor is that plane."""
    from hoirecon.ground.floor import Floor

    r = _recon()
    a = math.radians(pitch_deg)
    R = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])

    def turn(v):
        return (np.asarray(v, np.float64) @ R.T).astype(np.float32)

    b = r.fit.body
    names = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
    kp = np.array([[-0.2, 0.0, 3.0], [-0.4, 0.0, 3.0], [-0.2, -0.6, 3.0], [-0.4, -0.6, 3.0]])  # left = image right
    body = dataclasses.replace(b, vertices=turn(b.vertices), keypoints3d=turn(kp), keypoint_names=names)
    obj = dataclasses.replace(r.fit.object, vertices=turn(r.fit.object.vertices))
    normal = R @ np.array([0.0, -1.0, 0.0])
    point = R @ np.array([-0.3, 0.85, 3.0])  # the box's bottom face
    floor = Floor(normal=normal, height_m=float(normal @ point), point=point, supports=(), visible=True, confidence=1.0)
    return dataclasses.replace(r, fit=dataclasses.replace(r.fit, body=body, object=obj, floor=floor))


def _camera_projection(gltf, positions, camera):
    """Pixels of glTF-frame ``positions`` seen through the GLB's ``photo_camera`` node (its matrix)."""
    node = next(n for n in gltf["nodes"] if n.get("camera") == 0)
    M = np.asarray(node.get("matrix", np.eye(4).reshape(-1)), np.float64).reshape(4, 4).T  # column-major
    local = (np.asarray(positions, np.float64) - M[:3, 3]) @ M[:3, :3]  # into the camera node's frame
    yfov = gltf["cameras"][0]["perspective"]["yfov"]
    f = 0.5 * camera.height / math.tan(0.5 * yfov)
    return np.stack([0.5 * camera.width + f * local[:, 0] / -local[:, 2],
                     0.5 * camera.height - f * local[:, 1] / -local[:, 2]], 1)  # fmt: skip


def test_world_frame_stands_on_the_floor_and_keeps_the_camera(tmp_path):
    """--frame world: the known floor is Y = 0 (glTF; Blender Z = 0) within 2 cm, +Y is up, the person
    faces +Z; the photo_camera node still projects the meshes onto the photo within a pixel; the
    turntable's floor and params.json's transform agree."""
    from hoirecon.export.report import read_floor
    from hoirecon.geometry.frames import transform_points

    recon = _pitched_recon()
    paths = write_outputs(recon, tmp_path / "w")
    scene = trimesh.load(paths["scene.glb"], process=False)
    hv = np.asarray(scene.geometry["human"].vertices, np.float64)
    assert abs(hv[:, 1].min()) < 0.02 and hv[:, 1].max() == pytest.approx(1.7, abs=0.02)  # feet at 0, 1.7 m tall
    ext = hv.max(0) - hv.min(0)
    assert ext[0] == pytest.approx(0.4, abs=0.02) and ext[2] == pytest.approx(0.25, abs=0.02)  # upright, not tilted
    p = json.loads(paths["params.json"].read_text())
    T = np.asarray(p["frames"]["camera_to_export"])
    assert p["frames"]["export"] == "world" and np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-6)
    assert np.linalg.det(T[:3, :3]) == pytest.approx(1.0)
    facing = T[:3, :3] @ np.array([0.0, 0.0, -1.0])  # the person faces the camera: toward -z camera ...
    assert facing[2] / np.hypot(facing[0], facing[2]) > 0.999  # ... horizontally +Z in the world (Blender's -Y)
    np.testing.assert_allclose(hv, transform_points(T, recon.fit.body.vertices), atol=1e-5)
    _, objs, _ = _parse_obj(paths["scene.obj"])
    np.testing.assert_allclose(objs["human"][0][:, :3], hv, atol=1e-5)  # the OBJ in the same frame
    gltf, _ = _glb_chunks(paths["scene.glb"])
    cam = recon.image.original_camera()
    for name, v_cam in (("human", recon.fit.body.vertices), ("object_mug", recon.fit.object.vertices)):
        px = _camera_projection(gltf, scene.geometry[name].vertices, cam)
        assert np.abs(px - cam.project(np.asarray(v_cam, np.float64))).max() < 1.0
    point, normal = read_floor(tmp_path / "w")
    assert abs(point[1]) < 1e-6 and np.allclose(normal / np.linalg.norm(normal), [0, 1, 0], atol=1e-6)
    assert "world" in gltf["extras"]["frame"]
    cam_paths = write_outputs(recon, tmp_path / "c", frame="camera")  # the camera frame is still there
    cv = np.asarray(trimesh.load(cam_paths["scene.glb"], process=False).geometry["human"].vertices)
    np.testing.assert_allclose(cv, np.asarray(recon.fit.body.vertices, np.float64) * [1, -1, -1], atol=1e-5)


def test_obj_materials_read_by_trimesh(written):
    recon, out, paths = written
    text = paths["scene.obj"].read_text()
    assert "mtllib scene.mtl" in text and "usemtl human_material" in text and "usemtl object_mug_material" in text
    mtl = paths["scene.mtl"].read_text()
    assert "newmtl human_material" in mtl and "Kd 0.7843 0.7843 0.7843" in mtl  # the grey, not the contact red
    for single, mat in (("human.obj", "human_material"), ("object.obj", "object_mug_material")):
        assert f"mtllib {single[:-4]}.mtl" in paths[single].read_text() and mat in paths[single[:-4] + ".mtl"].read_text()
    m = trimesh.load(paths["object.obj"], process=False, force="mesh")
    kd = np.asarray(m.visual.material.diffuse if hasattr(m.visual, "material") else m.visual.main_color)[:3]
    np.testing.assert_allclose(kd, [90, 150, 230], atol=2)  # the object's light blue, from the MTL


# ------------------------------------------------------------------------------------------ params


def _strict_json(path):
    def bad(x):
        raise ValueError(f"non-standard JSON constant {x}")
    return json.loads(Path(path).read_text(), parse_constant=bad)


def test_params_json(written):
    recon, out, paths = written
    p = _strict_json(paths["params.json"])
    for key in ("version", "image", "camera", "body", "object", "contacts", "detections", "losses", "timings_s", "frames"):
        assert key in p, key
    cam = recon.image.camera
    assert p["image"] == {"path": "/photos/person_with_mug.jpg", "width": W, "height": H,
                          "working": {"width": W, "height": H, "scale": 1.0,
                                      "camera": {"fx": p["camera"]["fx"], "fy": p["camera"]["fy"],
                                                 "cx": p["camera"]["cx"], "cy": p["camera"]["cy"]}}}
    assert p["camera"]["fx"] == cam.fx and p["camera"]["source"] == "user"
    np.testing.assert_allclose(p["camera"]["K"], cam.K)
    assert p["body"]["model"] == "box"
    assert p["body"]["reprojection_error_px"] is None  # NaN -> null
    assert p["body"]["params"]["betas"] == [0.0, 1.0, 2.0]
    assert p["body"]["height_m"] == pytest.approx(1.7, abs=1e-5)
    np.testing.assert_allclose(p["body"]["translation"], [0.0, 0.1, 0.0], atol=1e-6)
    o = p["object"]
    assert o["label"] == "coffee mug" and o["category"] == "mug" and o["mesh_source"] == "primitive"
    np.testing.assert_allclose(o["rotation"], recon.fit.object.rotation, atol=1e-6)
    np.testing.assert_allclose(o["rotation_axis_angle"], [0.0, math.radians(30.0), 0.0], atol=1e-5)
    np.testing.assert_allclose(o["translation"], recon.fit.object.translation, atol=1e-6)
    assert o["scale"] == pytest.approx(1.2)
    assert o["size_m"] == pytest.approx(1.2 * 0.3, rel=1e-3)
    c = p["contacts"]
    assert c["human_vertices"] == recon.contacts.human_vertices.tolist()
    assert c["object_vertices"] == recon.contacts.object_vertices.tolist()
    assert c["pairs"] == [["right_hand", "grip"]] and c["source"] == "heuristic"
    assert "human_prob" not in c and "object_prob" not in c
    assert p["detections"]["person"]["box"] == [200.0, 100.0, 300.0, 300.0]
    assert p["detections"]["object"]["backend"] == "fake"
    assert p["detections"]["object"]["score"] == pytest.approx(0.8)
    assert p["losses"]["total"] == pytest.approx(1.5)
    assert p["timings_s"] == {"detect": 0.12, "fit": 3.4}
    assert "y down" in p["frames"]["internal"] and "+Y up" in p["frames"]["exported"]

    cfg = _strict_json(paths["config.json"])
    assert cfg == {"export": {"alpha": 0.6}, "device": "cpu", "paths": ["/a", "/b"], "tol": 0.5}


def test_params_with_probabilities_and_blended_colors(tmp_path):
    recon = _recon(with_probs=True)
    p = build_params(recon)
    json.dumps(p, allow_nan=False)
    assert len(p["contacts"]["human_prob"]) == len(recon.fit.body.vertices)
    assert p["contacts"]["object_prob"][0] == 0.5
    assert all(round(x, 4) == x for x in p["contacts"]["human_prob"])

    paths = write_outputs(recon, tmp_path / "out")
    gltf, binary = _glb_chunks(paths["scene.glb"])
    obj_mesh = gltf["meshes"][1]
    colors = _accessor(gltf, binary, obj_mesh["primitives"][0]["attributes"]["COLOR_0"]).astype(int)
    non_contact = np.setdiff1d(np.arange(len(colors)), recon.contacts.object_vertices)
    half = np.round(0.5 * np.array(OBJECT_COLOR) + 0.5 * np.array(OBJECT_CONTACT_COLOR))
    np.testing.assert_array_equal(colors[non_contact, :3], np.broadcast_to(half, (len(non_contact), 3)))
    np.testing.assert_array_equal(colors[recon.contacts.object_vertices, :3],
                                  np.broadcast_to(OBJECT_CONTACT_COLOR, (len(recon.contacts.object_vertices), 3)))


def test_jsonable():
    from dataclasses import dataclass

    @dataclass
    class D:
        a: np.ndarray

    obj = {
        "f": np.float32(0.5), "i": np.int64(3), "b": np.bool_(True), "nan": float("nan"), "inf": np.inf,
        "arr": np.array([[1.0, np.nan]]), "iarr": np.arange(3, dtype=np.int16), "t": (1, 2), "p": Path("/x/y"),
        "d": D(np.zeros(2)), 5: "int key", "s": {3, 1, 2},
    }
    out = jsonable(obj)
    assert out == {
        "f": 0.5, "i": 3, "b": True, "nan": None, "inf": None, "arr": [[1.0, None]], "iarr": [0, 1, 2],
        "t": [1, 2], "p": "/x/y", "d": {"a": [0.0, 0.0]}, "5": "int key", "s": [1, 2, 3],
    }
    json.dumps(out, allow_nan=False)


# ----------------------------------------------------------------------------------------- overlay


def _overlay_meshes(recon):
    return [
        (recon.fit.body.vertices, recon.fit.body.faces, np.full((len(recon.fit.body.vertices), 3), 0.8, np.float32)),
        (recon.fit.object.vertices, recon.fit.object.mesh.faces,
         np.tile(np.array([[0.35, 0.6, 0.9]], np.float32), (len(recon.fit.object.vertices), 1))),
    ]


def _ray_triangle_reference(origin_dirs, tris):
    """Brute-force Moller-Trumbore: nearest triangle index (or -1) for each ray from the origin."""
    v0, v1, v2 = tris[:, 0], tris[:, 1], tris[:, 2]
    e1, e2 = v1 - v0, v2 - v0
    out = np.full(len(origin_dirs), -1)
    for k, d in enumerate(origin_dirs):
        pvec = np.cross(d, e2)
        det = np.einsum("ij,ij->i", e1, pvec)
        ok = np.abs(det) > 1e-12
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        tvec = -v0
        u = np.einsum("ij,ij->i", tvec, pvec) * inv
        qvec = np.cross(tvec, e1)
        v = (qvec @ d) * inv
        t = np.einsum("ij,ij->i", e2, qvec) * inv
        hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
        if hit.any():
            cand = np.flatnonzero(hit)
            out[k] = cand[np.argmin(t[cand])]
    return out


def test_overlay_changes_only_mesh_pixels(written):
    recon, out, paths = written
    from PIL import Image

    img = np.asarray(Image.open(paths["overlay.png"]).convert("RGB"))
    assert img.shape == (H, W, 3)
    cam = recon.image.camera
    photo = recon.image.rgb
    for verts in (recon.fit.body.vertices, recon.fit.object.vertices):
        u, v = cam.project(np.asarray(verts, np.float64).mean(0, keepdims=True))[0]
        assert (img[int(v), int(u)] != photo[int(v), int(u)]).any()
    # far from both meshes: unchanged
    for u, v in ((5, 5), (W - 5, 5), (5, H - 5), (W - 5, H - 5)):
        np.testing.assert_array_equal(img[v, u], photo[v, u])
    # changed pixels lie inside the projected bounding boxes of the meshes (plus one pixel)
    changed = (img != photo).any(-1)
    allowed = np.zeros_like(changed)
    for verts in (recon.fit.body.vertices, recon.fit.object.vertices):
        uv = cam.project(np.asarray(verts, np.float64))
        x0, y0 = np.floor(uv.min(0)).astype(int) - 1
        x1, y1 = np.ceil(uv.max(0)).astype(int) + 2
        allowed[max(y0, 0) : y1, max(x0, 0) : x1] = True
    assert changed.any() and not (changed & ~allowed).any()


def test_overlay_matches_slow_reference():
    recon = _recon()
    cam = recon.image.camera
    meshes = _overlay_meshes(recon)
    layers = overlay_mod.render_layers(cam, meshes)
    assert layers.color.shape == (H, W, 3) and layers.mesh_index.shape == (H, W)

    # 1) every front-facing face's projected centroid is covered, by the right mesh where unoccluded
    mask = layers.mask
    for k, (verts, faces, _) in enumerate(meshes):
        tri = np.asarray(verts, np.float64)[faces]
        centroid = tri.mean(1)
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        front = np.einsum("ij,ij->i", normal, centroid) < 0  # outward normal faces the camera
        assert front.sum() > 10
        uv = cam.project(centroid[front])
        px = np.floor(uv).astype(int)
        inside = (px[:, 0] >= 0) & (px[:, 0] < W) & (px[:, 1] >= 0) & (px[:, 1] < H)
        px = px[inside]
        covered = np.zeros(len(px), bool)
        for dx in (-1, 0, 1):  # centroids within half a pixel of the silhouette may miss the pixel centre
            for dy in (-1, 0, 1):
                x = np.clip(px[:, 0] + dx, 0, W - 1)
                y = np.clip(px[:, 1] + dy, 0, H - 1)
                covered |= mask[y, x]
        assert covered.all(), f"mesh {k}: {np.count_nonzero(~covered)} front faces not covered"
        assert (layers.mesh_index[px[:, 1], px[:, 0]] >= 0).mean() > 0.95

    # 2) per-pixel mesh id and depth against a brute-force ray cast on sampled pixels
    all_tris = np.concatenate([np.asarray(v, np.float64)[f] for v, f, _ in meshes])
    owner = np.concatenate([np.full(len(f), k) for k, (_, f, _) in enumerate(meshes)])
    rng = np.random.default_rng(1)
    ys, xs = np.nonzero(np.ones((H, W), bool))
    sel = rng.choice(len(ys), 300, replace=False)
    near = np.flatnonzero(layers.mask.reshape(-1))
    sel = np.concatenate([sel, rng.choice(near, 300, replace=False)])
    py, pxs = ys[sel], xs[sel]
    dirs = np.stack([(pxs + 0.5 - cam.cx) / cam.fx, (py + 0.5 - cam.cy) / cam.fy, np.ones(len(sel))], 1)
    ref = _ray_triangle_reference(dirs, all_tris)
    ref_mesh = np.where(ref >= 0, owner[np.maximum(ref, 0)], -1)
    got = layers.mesh_index[py, pxs]
    assert (ref_mesh == got).mean() > 0.99  # ties on shared edges may differ
    hit = (ref >= 0) & (got >= 0)
    ref_z = np.array([np.nan] * len(sel))
    for j in np.flatnonzero(hit):
        t0 = all_tris[ref[j]]
        n = np.cross(t0[1] - t0[0], t0[2] - t0[0])
        ref_z[j] = (n @ t0[0]) / (n @ dirs[j])  # z of the hit, since dirs have z == 1
    np.testing.assert_allclose(layers.depth[py, pxs][hit], ref_z[hit], rtol=1e-4)
    # shading: grey 0.8 times 0.3..1.0
    body_px = layers.color[layers.mesh_index == 0]
    assert body_px.min() >= 0.8 * 0.3 - 1e-4 and body_px.max() <= 0.8 + 1e-4


def test_overlay_downscaled_render_matches_full_resolution():
    cam_big = _camera(2048, 1536)
    recon = _recon(camera=cam_big)
    meshes = _overlay_meshes(recon)
    photo = recon.image.rgb
    t = time.perf_counter()
    fast = render_overlay(photo, cam_big, meshes, max_side=1024)
    dt = time.perf_counter() - t
    full = render_overlay(photo, cam_big, meshes, max_side=0)
    assert fast.shape == full.shape == (1536, 2048, 3)
    m_fast = (fast != photo).any(-1)
    m_full = (full != photo).any(-1)
    iou = (m_fast & m_full).sum() / (m_fast | m_full).sum()
    assert iou > 0.98
    inner = m_fast & m_full
    assert np.abs(fast[inner].astype(int) - full[inner].astype(int)).mean() < 4
    assert dt < 10.0


def test_overlay_alpha_and_outline():
    recon = _recon()
    meshes = _overlay_meshes(recon)
    photo = recon.image.rgb
    cam = recon.image.camera
    np.testing.assert_array_equal(render_overlay(photo, cam, meshes, alpha=0.0), photo)
    opaque = render_overlay(photo, cam, meshes, alpha=1.0)
    layers = overlay_mod.render_layers(cam, meshes)
    np.testing.assert_array_equal(opaque[layers.mask], np.round(layers.color[layers.mask] * 255).astype(np.uint8))
    outlined = render_overlay(photo, cam, meshes, outline=True)
    assert (outlined != render_overlay(photo, cam, meshes)).any()
    # no meshes: photo unchanged
    np.testing.assert_array_equal(render_overlay(photo, cam, []), photo)


def test_overlay_speed_1024():
    ico = trimesh.creation.icosphere(subdivisions=5, radius=0.5)  # 20480 faces
    box = trimesh.creation.box(extents=(0.5, 1.6, 0.3)).subdivide().subdivide().subdivide()  # 768 faces
    sph2 = trimesh.creation.icosphere(subdivisions=4, radius=0.3)  # 5120 faces
    cam = CameraIntrinsics(900.0, 900.0, 512.0, 512.0, 1024, 1024)
    meshes = []
    for m, offset in ((ico, (0.0, 0.0, 2.5)), (box, (-0.4, 0.0, 3.0)), (sph2, (0.5, 0.3, 2.2))):
        v = (np.asarray(m.vertices) + offset).astype(np.float32)
        meshes.append((v, np.asarray(m.faces), np.full((len(v), 3), 0.7, np.float32)))
    assert sum(len(f) for _, f, _ in meshes) > 25000
    photo = np.zeros((1024, 1024, 3), np.uint8)
    render_overlay(photo, cam, meshes)  # warm-up (Open3D import)
    t = time.perf_counter()
    render_overlay(photo, cam, meshes)
    assert time.perf_counter() - t < 3.0  # about 0.2 s on 2 CPU cores; generous for slow CI


# --------------------------------------------------------------------------------------- atomicity


def _listing(folder: Path):
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else None


def test_failure_leaves_nothing_behind(tmp_path, monkeypatch):
    recon = _recon()

    def boom(*a, **k):
        raise RuntimeError("overlay failed")

    monkeypatch.setattr(overlay_mod, "render_overlay", boom)

    # a fresh output folder is not created
    with pytest.raises(RuntimeError, match="overlay failed"):
        write_outputs(recon, tmp_path / "new_out")
    assert sorted(os.listdir(tmp_path)) == []

    # an existing folder with earlier results is left exactly as it was
    out = tmp_path / "out"
    out.mkdir()
    write_marker(out)  # hoirecon's own folder
    (out / "keep.txt").write_text("mine")
    (out / "params.json").write_text('{"old": true}\n')
    before = _listing(out)
    with pytest.raises(RuntimeError):
        write_outputs(recon, out)
    assert _listing(out) == before
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_user_folder_is_refused_untouched(tmp_path):
    """A non-empty folder without hoirecon's marker is the user's: refused (exit 2), not one byte
    written; an empty folder is fine."""
    out = tmp_path / "Documents"
    out.mkdir()
    (out / "precious.txt").write_text("data")
    before = _listing(out)
    with pytest.raises(InputError, match="was not written by hoirecon"):
        write_outputs(_recon(), out)
    assert _listing(out) == before
    assert sorted(os.listdir(tmp_path)) == ["Documents"]
    empty = tmp_path / "empty"
    empty.mkdir()
    write_outputs(_recon(), empty)
    assert (empty / MARKER).is_file() and (empty / "scene.glb").is_file()


def test_rewrite_replaces_outputs_and_keeps_other_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_marker(out)  # an earlier hoirecon result
    (out / "keep.txt").write_text("mine")
    (out / "params.json").write_text('{"old": true}\n')
    paths = write_outputs(_recon(category="coffee cup"), out)
    assert (out / "keep.txt").read_text() == "mine"
    assert "old" not in _strict_json(paths["params.json"])
    assert sorted(os.listdir(out)) == sorted(OUTPUT_FILES + ("keep.txt", ".hoirecon"))
    assert sorted(os.listdir(tmp_path)) == ["out"]
    gltf, _ = _glb_chunks(paths["scene.glb"])
    assert [n["name"] for n in gltf["nodes"]] == ["human", "object_coffee_cup", "photo_camera"]
    mode = paths["scene.glb"].stat().st_mode & 0o777
    assert mode & 0o600 == 0o600


def test_write_glb_obj_validate_input(tmp_path):
    v = np.zeros((3, 3), np.float32)
    f = np.array([[0, 1, 3]])
    c = np.full((3, 4), 255, np.uint8)
    with pytest.raises(ValueError):
        write_glb(tmp_path / "a.glb", [("m", v, f, c)])
    with pytest.raises(ValueError):
        write_obj(tmp_path / "a.obj", [("m", v * np.nan, np.array([[0, 1, 2]]), c)])
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ GLB writer details


def test_glb_header_fields_and_buffer_view_targets(written):
    recon, out, paths = written
    gltf, _ = _glb_chunks(paths["scene.glb"])
    assert gltf["asset"] == {"version": "2.0", "generator": "hoirecon"}
    assert "+Y up" in gltf["extras"]["frame"] and gltf["scenes"][0]["name"] == "hoirecon"
    assert [m["name"] for m in gltf["materials"]] == ["human_material", "object_mug_material"]
    for mat in gltf["materials"]:
        assert mat["pbrMetallicRoughness"] == {"baseColorFactor": [1.0, 1.0, 1.0, 1.0], "metallicFactor": 0.0,
                                               "roughnessFactor": 0.8}  # fmt: skip
    for node in gltf["nodes"]:
        assert set(node) in ({"name", "mesh"}, {"name", "camera"})  # identity transforms: no matrix/TRS
    for mesh in gltf["meshes"]:
        prim = mesh["primitives"][0]
        assert prim["mode"] == 4
        assert gltf["bufferViews"][gltf["accessors"][prim["indices"]]["bufferView"]]["target"] == 34963
        for acc in prim["attributes"].values():
            assert gltf["bufferViews"][gltf["accessors"][acc]["bufferView"]]["target"] == 34962


def test_gltf_normals_unused_vertex_and_faceless_mesh(tmp_path):
    from hoirecon.export.mesh_io import gltf_normals

    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [5, 5, 5]], np.float64)
    n = gltf_normals(v, np.array([[0, 1, 2]]))
    assert n.dtype == np.float32
    np.testing.assert_allclose(n[:3], [[0, 0, 1]] * 3)
    np.testing.assert_array_equal(n[3], [0, 1, 0])  # unused vertex: unit +Y, as glTF wants unit normals
    c = np.full((4, 4), 255, np.uint8)
    write_glb(tmp_path / "p.glb", [("tri", v + [0, 0, 2], np.array([[0, 1, 2]]), c),
                                   ("dots", v + [0, 0, 3], np.zeros((0, 3), int), c)])  # fmt: skip
    gltf, _ = _glb_chunks(tmp_path / "p.glb")
    assert [n["name"] for n in gltf["nodes"]] == ["tri", "dots"]
    assert [m["primitives"][0]["mode"] for m in gltf["meshes"]] == [4, 0]  # faceless: points, as before
    with pytest.raises(ValueError, match="unique"):
        write_glb(tmp_path / "d.glb", [("a", v, np.array([[0, 1, 2]]), c), ("a", v, np.array([[0, 1, 2]]), c)])


# ------------------------------------------------------------------------------- exporter table


def test_exporter_table():
    import importlib

    from hoirecon.export.formats import EXPORTERS, FORMATS, Exporter, export_folder

    assert FORMATS == tuple(EXPORTERS) == ("ply", "usd")
    for name, exp in EXPORTERS.items():
        assert isinstance(exp, Exporter) and exp.files and exp.help
        module, _, func = exp.target.partition(":")
        assert callable(getattr(importlib.import_module(module), func)), name  # resolvable without running it
    with pytest.raises(InputError, match="--format must be one of ply, usd"):
        export_folder(".", "fbx")


# -------------------------------------------------------------------- export without a body model


def test_write_outputs_takes_only_the_reconstruction():
    import inspect

    params = inspect.signature(write_outputs).parameters
    assert list(params)[:2] == ["recon", "out_dir"] and "body_model" not in params
    with pytest.raises(TypeError, match="unexpected"):
        write_outputs(_recon(), "/nonexistent/never", model=None)


def test_contact_pictures_from_the_recorded_views(tmp_path):
    """The pictures come from ``recon.contact_views``: a ViewSet is drawn as it is; a canonical-frame
    mesh (the open-pose body a source without views records) gives the same pixels as its ViewSet;
    None draws the body as fitted."""
    import dataclasses

    from PIL import Image

    from hoirecon.contact.render import render_body_views, render_object_views
    from hoirecon.export.contact_views import contact_view_sets, write_contact_outputs

    recon = _recon(with_probs=True)
    bv = recon.fit.body.vertices
    canon = (((bv - bv.mean(0)) * np.array([1.0, 1.0, -1.0]) * 0.9).astype(np.float32), recon.fit.body.faces)

    def pictures(contact_views, name):
        r = dataclasses.replace(recon, contact_views=contact_views)
        paths = write_contact_outputs(r, out_dir=tmp_path / name, tile=128)
        return [np.asarray(Image.open(paths[k])) for k in ("human_contacts.png", "object_contacts.png")]

    views = (render_body_views(*canon), render_object_views(recon.fit.object.mesh))
    from_views = pictures(views, "views")
    from_mesh = pictures((canon, None), "mesh")  # rendered at export, object from the fitted mesh
    assert all(np.array_equal(a, b) for a, b in zip(from_views, from_mesh))
    as_fitted = pictures((None, None), "none")
    fitted_views = (render_body_views(recon.fit.body.vertices, recon.fit.body.faces), None)
    assert all(np.array_equal(a, b) for a, b in zip(as_fitted, pictures(fitted_views, "fitted")))
    assert not np.array_equal(as_fitted[0], from_views[0])
    assert contact_view_sets(recon)[0].num_vertices == len(bv)


def test_params_schema_version(written):
    from hoirecon.export.params import SCHEMA_VERSION

    recon, out, paths = written
    p = _strict_json(paths["params.json"])
    assert p["schema_version"] == SCHEMA_VERSION == 7 and list(p)[:2] == ["schema_version", "version"]


# ---------------------------------------------------------------------------------------- skinned GLB


def _box_skin(recon):
    """A three-bone chain up the box body (camera frame, y down): root at the hips, 'spine' 0.3 m above,
    'head' 0.7 m above, each turned a little; each vertex weighted to the bones by height."""
    from scipy.spatial.transform import Rotation

    from hoirecon.body.model import top_influences
    from hoirecon.types import Skin

    v = np.asarray(recon.fit.body.vertices, np.float64)
    heads = np.array([[-0.3, 0.3, 3.0], [-0.3, 0.0, 3.0], [-0.3, -0.4, 3.0]])
    world = np.tile(np.eye(4), (3, 1, 1))
    for j, rv in enumerate(([0.1, 0.2, 0.0], [0.0, -0.3, 0.2], [0.2, 0.0, -0.1])):
        world[j, :3, :3] = Rotation.from_rotvec(rv).as_matrix()
        world[j, :3, 3] = heads[j]
    h = -v[:, 1]  # height above the box's centre
    dense = np.stack([np.clip(0.2 - h, 0, 1), np.clip(1 - np.abs(h - 0.1) / 0.3, 0, 1), np.clip(h - 0.2, 0, 1)], 1) + 1e-9
    dense /= dense.sum(1, keepdims=True)
    j, w, dropped = top_influences(np.tile(np.arange(3), (len(v), 1)), dense)
    return Skin(joint_names=("hips", "spine", "head"), parents=np.array([-1, 0, 1]), joint_world=world, joints=j,
                weights=w, vertices=v.astype(np.float32), dropped=dropped)  # fmt: skip


def _node_worlds(gltf, overrides=None):
    """Every node's world matrix from its TRS / matrix and the hierarchy (reference, plain loops);
    ``overrides``: node index -> extra local rotation (3, 3) applied after the node's own."""
    from scipy.spatial.transform import Rotation

    nodes = gltf["nodes"]
    parent = {c: i for i, n in enumerate(nodes) for c in n.get("children", [])}
    worlds = {}

    def local(i):
        n = nodes[i]
        if "matrix" in n:
            return np.asarray(n["matrix"], np.float64).reshape(4, 4).T
        L = np.eye(4)
        R = Rotation.from_quat(n.get("rotation", [0, 0, 0, 1])).as_matrix()
        if overrides and i in overrides:
            R = R @ overrides[i]
        L[:3, :3] = R
        L[:3, 3] = n.get("translation", [0, 0, 0])
        return L

    def world(i):
        if i not in worlds:
            worlds[i] = local(i) if i not in parent else world(parent[i]) @ local(i)
        return worlds[i]

    return [world(i) for i in range(len(nodes))]


def _skinned(gltf, binary, overrides=None):
    """The human's vertices as a skin-applying reader computes them (linear blend skinning)."""
    node = next(n for n in gltf["nodes"] if n.get("name") == "human")
    prim = gltf["meshes"][node["mesh"]]["primitives"][0]
    skin = gltf["skins"][node["skin"]]
    pos = _accessor(gltf, binary, prim["attributes"]["POSITION"]).astype(np.float64)
    J = np.concatenate([_accessor(gltf, binary, prim["attributes"][f"JOINTS_{s}"]) for s in (0, 1)], 1)
    Wt = np.concatenate([_accessor(gltf, binary, prim["attributes"][f"WEIGHTS_{s}"]) for s in (0, 1)], 1)
    ibm = _accessor(gltf, binary, skin["inverseBindMatrices"]).reshape(-1, 4, 4).transpose(0, 2, 1)
    worlds = _node_worlds(gltf, overrides)
    mats = np.stack([worlds[n] @ ibm[k] for k, n in enumerate(skin["joints"])])
    ph = np.concatenate([pos, np.ones((len(pos), 1))], 1)
    out = np.zeros_like(pos)
    for k in range(J.shape[1]):
        out += Wt[:, k : k + 1].astype(np.float64) * np.einsum("vij,vj->vi", mats[J[:, k]], ph)[:, :3]
    return pos, out, mats, skin


@pytest.mark.parametrize("frame", ["camera", "world"])
def test_skinned_human_is_the_fitted_mesh_and_turns_with_its_bones(tmp_path, frame):
    """With a skin the GLB's human keeps the fitted mesh exactly (bind pose = the fit: every joint
    matrix is the identity, for readers that skin and for trimesh, which does not); turning a bone
    moves the vertices weighted to it and its children about its joint, as a direct computation in
    the camera frame says (reference: plain loops over the node hierarchy)."""
    from scipy.spatial.transform import Rotation

    plain = _recon()
    recon = dataclasses.replace(plain, skin=_box_skin(plain))
    write_outputs(plain, tmp_path / "plain", frame=frame)
    write_outputs(recon, tmp_path / "skin", frame=frame)
    gltf, binary = _glb_chunks(tmp_path / "skin" / "scene.glb")
    pos, skinned, mats, skin = _skinned(gltf, binary)
    assert [gltf["nodes"][n]["name"] for n in skin["joints"]] == ["hips", "spine", "head"]
    assert np.abs(mats - np.eye(4)).max() < 1e-5 and np.abs(skinned - pos).max() < 1e-5
    a = trimesh.load(tmp_path / "plain" / "scene.glb", force="scene").geometry["human"].vertices
    b = trimesh.load(tmp_path / "skin" / "scene.glb", force="scene").geometry["human"].vertices
    assert np.abs(np.asarray(a) - np.asarray(b)).max() < 1e-6  # a reader that ignores skins sees the same mesh
    params = json.loads((tmp_path / "skin" / "params.json").read_text())
    assert params["body"]["skin"]["joints"] == 3 and params["body"]["skin"]["bind_pose"] == "as fitted"
    assert json.loads((tmp_path / "plain" / "params.json").read_text())["body"]["skin"] is None

    # turn 'spine' 90 degrees about its own x axis
    Rx = Rotation.from_rotvec([math.pi / 2, 0, 0]).as_matrix()
    spine_node = skin["joints"][1]
    _, turned, _, _ = _skinned(gltf, binary, {spine_node: Rx})
    T = params["frames"]["camera_to_export"]
    T = np.asarray(T, np.float64)
    W1 = recon.skin.joint_world[1]
    M = np.eye(4)
    M[:3, :3] = Rx
    expect_cam = (W1 @ M @ np.linalg.inv(W1))  # what the bone's turn does in the camera frame
    v_cam = np.asarray(recon.fit.body.vertices, np.float64)
    w = recon.skin.weights
    jn = recon.skin.joints
    on_spine_or_head = ((w * np.isin(jn, [1, 2])).sum(1) > 0.999)
    on_hips = ((w * (jn == 0)).sum(1) > 0.999)
    assert on_spine_or_head.sum() > 20 and on_hips.sum() > 20
    exp = (np.c_[v_cam, np.ones(len(v_cam))] @ expect_cam.T)[:, :3]
    exp_export = (np.c_[exp, np.ones(len(exp))] @ T.T)[:, :3]
    assert np.abs(turned[on_spine_or_head] - exp_export[on_spine_or_head]).max() < 1e-4
    assert np.abs(turned[on_hips] - pos[on_hips]).max() < 1e-5  # the hips stay
    assert np.abs(turned - pos).max() > 0.3


def test_add_skin_refuses_a_skin_of_another_mesh():
    from hoirecon.export.mesh_io import glb_bytes
    from hoirecon.export.skin import add_skin
    from hoirecon.export.writer import _meshes

    recon = _recon()
    skin = _box_skin(recon)
    glb = glb_bytes(_meshes(recon))
    bad = dataclasses.replace(skin, joints=skin.joints[:-1], weights=skin.weights[:-1])
    with pytest.raises(ValueError, match="vertices"):
        add_skin(glb, "human", bad)
    with pytest.raises(ValueError, match="mesh nodes named"):
        add_skin(glb, "nobody", skin)
