"""Object mesh library: category table, label resolution, procedural meshes, user meshes."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from hoirecon.errors import InputError
from hoirecon.objects import (ObjectProperties, build_mesh, categories, load_user_mesh, models, properties,
                              resolve_label, size_prior)
from hoirecon.objects import shapes as S
from hoirecon.types import ObjectMesh

EXPECTED_PARTS = {
    "chair": ["seat", "backrest", "legs"],
    "bench": ["seat", "backrest", "legs"],
    "bicycle": ["frame", "wheels", "handlebar", "saddle", "pedals"],
    "motorcycle": ["body", "wheels", "handlebar", "seat", "footrests"],
    "skateboard": ["deck", "wheels"],
    "surfboard": ["deck"],
    "skis": ["skis", "bindings"],
    "laptop": ["base", "screen"],
    "cup": ["body", "handle"],
    "bottle": ["body", "neck", "cap"],
    "tennis_racket": ["grip", "throat", "head"],
    "baseball_bat": ["grip", "barrel"],
    "umbrella": ["handle", "shaft", "canopy"],
    "backpack": ["body", "straps"],
    "suitcase": ["body", "handle", "wheels"],
    "sports_ball": ["surface"],
    "table": ["top", "legs"],
    "helmet": ["shell"],
    "camera_tripod": ["camera", "head", "legs"],
}
# the fit's pose prior: stands on the ground ("upright") or hand-held ("any"); these are the values
# contacts.json held under "init" before they moved to objects.json as "pose_prior"
UPRIGHT = {"chair", "bench", "bicycle", "motorcycle", "skateboard", "skis", "laptop", "backpack", "suitcase",
           "table", "camera_tripod"}
# every procedural mesh is built from closed, outward-wound pieces
WATERTIGHT = set(EXPECTED_PARTS)
ALL = sorted(EXPECTED_PARTS)


def _part_centre(mesh: ObjectMesh, part: str) -> np.ndarray:
    return mesh.vertices[mesh.part_vertices(part)].astype(np.float64).mean(0)


# ---------------------------------------------------------------------------------------- table


def test_table_has_exact_categories_and_parts():
    table = categories()
    assert set(table) == set(EXPECTED_PARTS)
    for key, entry in table.items():
        assert entry["parts"] == EXPECTED_PARTS[key]
        assert entry["symmetry"] in ("none", "mirror_x", "rot_y", "sphere")
        assert entry["pose_prior"] in ("upright", "any")
        assert entry["size_m"] > 0 and 0 < entry["scale_sigma"] < 1
        assert all(s == s.lower().strip() for s in entry["synonyms"])
    assert table["sports_ball"]["symmetry"] == "sphere"
    assert table["bottle"]["symmetry"] == "rot_y"
    table["chair"]["size_m"] = -1  # a copy: mutating it does not corrupt the library
    assert categories()["chair"]["size_m"] == 0.9


def test_size_prior():
    assert size_prior("chair") == (0.9, categories()["chair"]["scale_sigma"])
    assert size_prior("dining table")[0] == pytest.approx(1.2)


def test_every_category_has_a_builder_and_every_builder_a_category():
    assert list(models.builders()) == list(categories())  # same keys, same order
    for key in categories():
        assert models.builder_for(key) is not None
    assert models.builder_for("giraffe") is None
    with pytest.raises(ValueError, match="two builders"):
        models.builder("chair")(lambda: [])


def test_properties():
    table = categories()
    for key, entry in table.items():
        props = properties(key)
        assert isinstance(props, ObjectProperties) and props.key == key
        assert props.upright == (key in UPRIGHT) == (entry["pose_prior"] == "upright")
        assert props.pose_prior == entry["pose_prior"]
        assert props.symmetry == entry["symmetry"] == build_mesh(key).symmetry
        assert props.size_prior == (props.size_m, props.scale_sigma) == size_prior(key)
        assert props.parts == tuple(entry["parts"]) and props.synonyms == tuple(entry["synonyms"])
    assert properties("mug") is properties("cup")  # labels resolve like everywhere else
    assert not properties("mug").upright and properties("dining table").upright
    with pytest.raises(AttributeError):
        properties("cup").pose_prior = "upright"  # frozen
    with pytest.raises(InputError, match="unknown object label"):
        properties("giraffe")


# -------------------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    "label,key",
    [
        ("chair", "chair"),
        ("armchair", "chair"),
        ("dining table", "table"),
        ("Tennis-Racket", "tennis_racket"),
        ("tennis_racket", "tennis_racket"),
        ("  BIKES ", "bicycle"),
        ("bike", "bicycle"),
        ("sports ball", "sports_ball"),
        ("baseball bat", "baseball_bat"),
        ("ski", "skis"),
        ("skis", "skis"),
        ("benches", "bench"),
        ("Skate-Board", "skateboard"),
        ("surfboards", "surfboard"),
        ("motorbike", "motorcycle"),
        ("camera_tripod", "camera_tripod"),
        ("mug", "cup"),
    ],
)
def test_resolve_label(label, key):
    assert resolve_label(label) == key


def test_every_key_and_synonym_resolves_to_itself():
    for key, entry in categories().items():
        assert resolve_label(key) == key
        for syn in entry["synonyms"]:
            assert resolve_label(syn) == key, syn


def test_unknown_label_lists_known_categories():
    with pytest.raises(InputError) as info:
        resolve_label("giraffe")
    msg = str(info.value)
    assert "giraffe" in msg and "\n" not in msg
    assert msg.startswith("unknown object label 'giraffe'; known: chair, bench,")
    for key in EXPECTED_PARTS:
        assert key in msg
    with pytest.raises(InputError):
        build_mesh("giraffe")
    with pytest.raises(InputError):
        resolve_label("")


# ------------------------------------------------------------------------------ library meshes


@pytest.mark.parametrize("key", ALL)
def test_library_mesh(key):
    mesh = build_mesh(key)
    size_m, _ = size_prior(key)
    v, f = mesh.vertices, mesh.faces
    assert isinstance(mesh, ObjectMesh) and mesh.category == key
    assert mesh.source == f"library:{key}"
    assert mesh.symmetry == categories()[key]["symmetry"]
    assert v.dtype == np.float32 and v.ndim == 2 and v.shape[1] == 3
    assert f.dtype == np.int64 and f.shape[1] == 3 and f.min() >= 0 and f.max() < len(v)
    assert mesh.part_of_vertex.dtype == np.int16 and mesh.part_of_vertex.shape == (len(v),)
    assert np.all(np.isfinite(v))
    assert 100 < len(v) <= 6000
    for arr in (v, f, mesh.part_of_vertex):
        assert not arr.flags.writeable
    # metric size: the largest extent is the size prior (built at real-world size)
    ext = v.max(0) - v.min(0)
    assert abs(ext.max() - size_m) <= 0.15 * size_m
    assert ext.max() == pytest.approx(size_m, rel=1e-3)
    # canonical frame: resting on y = 0, occupying y <= 0, centred on x and z
    assert v[:, 1].max() == pytest.approx(0.0, abs=1e-5)
    assert v[:, 1].min() >= -size_m - 1e-5
    assert (v[:, 0].max() + v[:, 0].min()) / 2 == pytest.approx(0.0, abs=1e-5)
    assert (v[:, 2].max() + v[:, 2].min()) / 2 == pytest.approx(0.0, abs=1e-5)
    # parts
    assert list(mesh.part_names) == EXPECTED_PARTS[key]
    for name in mesh.part_names:
        assert len(mesh.part_vertices(name)) >= 8, name
    # closed, outward-wound surface
    tm = trimesh.Trimesh(v.astype(np.float64), f, process=False)
    if key in WATERTIGHT:
        assert tm.is_watertight
        assert tm.is_winding_consistent
        assert tm.volume > 0
    assert tm.area_faces.min() > 0


def test_build_mesh_is_cached():
    assert build_mesh("chair") is build_mesh("chair")
    assert build_mesh("Chairs") is build_mesh("chair")


def _height(mesh: ObjectMesh, part: str) -> float:
    """Height above the floor (m) of the top of ``part``."""
    return float(-mesh.vertices[mesh.part_vertices(part), 1].min())


def test_orientation_facts():
    chair = build_mesh("chair")
    assert _height(chair, "seat") == pytest.approx(0.45, abs=0.03)
    assert _part_centre(chair, "backrest")[2] > _part_centre(chair, "seat")[2] + 0.1  # backrest at +z
    assert _part_centre(chair, "backrest")[1] < _part_centre(chair, "seat")[1]  # above the seat
    bench = build_mesh("bench")
    assert _height(bench, "seat") == pytest.approx(0.45, abs=0.03)
    assert _part_centre(bench, "backrest")[2] > _part_centre(bench, "seat")[2]
    bike = build_mesh("bicycle")
    assert _part_centre(bike, "handlebar")[2] < _part_centre(bike, "saddle")[2]  # nose toward -z
    assert _height(bike, "saddle") == pytest.approx(0.95, abs=0.05)
    assert _height(bike, "handlebar") == pytest.approx(1.05, abs=0.05)
    moto = build_mesh("motorcycle")
    assert _part_centre(moto, "handlebar")[2] < _part_centre(moto, "seat")[2]
    assert _height(moto, "seat") == pytest.approx(0.8, abs=0.05)
    laptop = build_mesh("laptop")
    base, screen = _part_centre(laptop, "base"), _part_centre(laptop, "screen")
    assert screen[2] > base[2] and screen[1] < base[1]  # hinge at +z, screen up
    for key, low, high in (("tennis_racket", "grip", "head"), ("baseball_bat", "grip", "barrel"),
                           ("umbrella", "handle", "canopy")):
        m = build_mesh(key)
        assert _part_centre(m, low)[1] > _part_centre(m, high)[1]  # handle down (larger y)
        assert m.vertices[m.part_vertices(low), 1].max() == pytest.approx(0.0, abs=0.01)
    tripod = build_mesh("camera_tripod")
    assert _part_centre(tripod, "camera")[1] < _part_centre(tripod, "legs")[1]
    cam = tripod.vertices[tripod.part_vertices("camera")]
    lens_tip = cam[:, 2].min()  # the lens sticks out toward -z
    assert _part_centre(tripod, "camera")[2] - lens_tip > 0.06
    suitcase = build_mesh("suitcase")
    assert _part_centre(suitcase, "handle")[1] < _part_centre(suitcase, "body")[1] - 0.25
    backpack = build_mesh("backpack")
    assert _part_centre(backpack, "straps")[2] > _part_centre(backpack, "body")[2]  # straps at +z
    helmet = build_mesh("helmet").vertices
    assert abs(helmet[:, 2].min()) == pytest.approx(0.15, abs=0.01)
    for key in ("skateboard", "surfboard", "skis", "bicycle", "motorcycle"):
        ext = np.ptp(build_mesh(key).vertices, axis=0)
        assert ext[2] == ext.max()  # long axis along z


# ------------------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    "mesh",
    [
        S.box((0.3, 0.05, 0.2), (1, 2, 3), spacing=0.03, rotation=S.rotation_x(0.4)),
        S.superellipsoid((0.3, 0.5, 0.2), exponent=5),
        S.sphere((0, 0, 0), 0.1),
        S.lathe([(0, 0), (0, 0.03), (0.1, 0.03), (0.1, 0.026), (0.01, 0.026), (0.01, 0)], spacing=0.01),
        S.tube([(0, 0, 0), (0, 0.2, 0), (0.1, 0.3, 0.1)], 0.01, caps="round"),
        S.cylinder((0, 0, 0), (0.1, 0, 0), 0.05),
        S.torus((0, 0.3, 0), 0.3, 0.02),
        S.board(1.0, 0.3, 0.04, lift=lambda u: 0.05 * u**2),
    ],
)
def test_primitives_closed_and_outward(mesh):
    v, f = mesh
    tm = trimesh.Trimesh(v, f, process=False)
    assert tm.is_watertight and tm.is_winding_consistent
    assert tm.volume > 0
    assert S.signed_volume(v, f) == pytest.approx(tm.volume)


def test_box_spacing_and_volume():
    v, f = S.box((0.4, 0.1, 0.2), spacing=0.02)
    assert trimesh.Trimesh(v, f, process=False).volume == pytest.approx(0.4 * 0.1 * 0.2)
    edges = np.linalg.norm(v[f[:, 1]] - v[f[:, 0]], axis=1)
    assert edges.max() <= 0.02 * np.sqrt(2) + 1e-9


def test_merge_builds_part_table():
    a = S.box((1, 1, 1))
    b = S.sphere((0, 0, 0), 0.2)
    v, f, pov, names = S.merge([("legs", *a), ("seat", *b), ("legs", *a)], part_names=["seat", "legs"])
    assert names == ("seat", "legs")
    assert len(v) == 2 * len(a[0]) + len(b[0]) and len(f) == 2 * len(a[1]) + len(b[1])
    assert pov.dtype == np.int16 and (pov == 1).sum() == 2 * len(a[0])
    assert f.max() == len(v) - 1
    with pytest.raises(ValueError):
        S.merge([("arm", *a)], part_names=["seat"])


# --------------------------------------------------------------------------------- user meshes


def _marked_box() -> list[trimesh.Trimesh]:
    """A tall box in a glTF-style file frame (+Y up, front toward +Z), away from the origin, with a
    small knob centred on its top and a bump low on its front (+z) face."""
    body = trimesh.creation.box((0.4, 1.0, 0.3))
    body.apply_translation((2.0, 3.5, -1.0))
    knob = trimesh.creation.box((0.1, 0.1, 0.1))
    knob.apply_translation((2.0, 4.05, -1.0))
    bump = trimesh.creation.box((0.1, 0.1, 0.1))
    bump.apply_translation((2.0, 3.2, -0.8))
    return [body, knob, bump]


@pytest.mark.parametrize("suffix", ["obj", "glb"])
def test_load_user_mesh(tmp_path, suffix):
    pieces = _marked_box()
    path = tmp_path / f"thing.{suffix}"
    if suffix == "obj":
        trimesh.util.concatenate(pieces).export(path)
    else:
        trimesh.Scene(pieces).export(path)
    mesh = load_user_mesh(path, "suitcase")
    size_m, _ = size_prior("suitcase")
    v = mesh.vertices
    assert mesh.source == f"user:thing.{suffix}" and mesh.category == "suitcase"
    assert v.dtype == np.float32 and mesh.faces.dtype == np.int64 and not v.flags.writeable
    ext = v.max(0) - v.min(0)
    assert ext.max() == pytest.approx(size_m, rel=1e-4)  # scaled to the size prior
    assert ext[1] == pytest.approx(size_m, rel=1e-4)  # the tall axis stayed vertical
    assert ext[0] == pytest.approx(0.4 * size_m / 1.1, rel=1e-4)  # uniform scale
    assert v[:, 1].max() == pytest.approx(0.0, abs=1e-6)  # base on the floor, y down
    assert (v[:, 0].max() + v[:, 0].min()) / 2 == pytest.approx(0.0, abs=1e-6)
    assert (v[:, 2].max() + v[:, 2].min()) / 2 == pytest.approx(0.0, abs=1e-6)
    scale = size_m / 1.1
    # y flipped: the knob (file top) is now at the most negative y; the file's bounding box centre
    # is at z = -0.95, the knob at z = -1.0 (0.05 behind it), so after the turn it sits 0.05 in +z
    top = v[:, 1] < v[:, 1].min() + 0.01
    assert top.sum() == 4
    assert v[top].mean(0)[[0, 2]] == pytest.approx([0.0, 0.05 * scale], abs=1e-5)
    # rotated, not mirrored: the bump (file front, +z) is now at -z, still near the floor
    front = v[:, 2] < v[:, 2].min() + 0.01
    assert front.sum() == 4 and np.all(v[front, 1] > -0.3 * size_m)
    tm = trimesh.Trimesh(v.astype(np.float64), mesh.faces, process=False)
    assert tm.volume > 0  # winding still outward
    # parts come from the library mesh (nearest vertex after aligning bounding boxes)
    assert mesh.part_names == ("body", "handle", "wheels")
    assert len(mesh.part_of_vertex) == len(v) and mesh.part_of_vertex.dtype == np.int16
    names = np.asarray(mesh.part_names)[mesh.part_of_vertex]
    assert "handle" in set(names[top])
    assert np.all(names[front] == "body")


@pytest.mark.parametrize("key,suffix", [("chair", "glb"), ("bicycle", "ply"), ("tennis_racket", "obj")])
def test_user_mesh_round_trip_keeps_geometry_and_parts(tmp_path, key, suffix):
    """A library mesh written in the file convention (+Y up, front +Z), scaled and moved, loads
    back onto the library mesh with the same parts."""
    lib = build_mesh(key)
    file_frame = lib.vertices.astype(np.float64) * [1.0, -1.0, -1.0] * 2.5 + [1.0, 2.0, 3.0]
    path = tmp_path / f"{key}.{suffix}"
    trimesh.Trimesh(file_frame, lib.faces, process=False).export(path)
    mesh = load_user_mesh(path, key)
    from scipy.spatial import cKDTree

    dist, idx = cKDTree(lib.vertices).query(mesh.vertices)
    assert dist.max() < 1e-4
    agree = np.mean(mesh.part_of_vertex == lib.part_of_vertex[idx])
    assert agree > 0.97
    tm = trimesh.Trimesh(mesh.vertices.astype(np.float64), mesh.faces, process=False)
    assert tm.volume > 0


def test_load_user_mesh_decimates_big_meshes(tmp_path):
    path = tmp_path / "ball.ply"
    trimesh.creation.icosphere(subdivisions=5, radius=3.0).export(path)  # 10242 vertices
    mesh = load_user_mesh(path, "ball")
    assert mesh.category == "sports_ball" and mesh.part_names == ("surface",)
    assert len(mesh.vertices) <= 6500
    assert np.ptp(mesh.vertices, axis=0).max() == pytest.approx(0.22, rel=1e-3)


@pytest.mark.parametrize(
    "name,content",
    [("missing.obj", None), ("junk.obj", b"\x00\x01garbage\xff" * 50), ("junk.glb", b"\x00\x01garbage\xff" * 50),
     ("empty.obj", b""), ("notes.txt", b"hello")],
)
def test_load_user_mesh_errors_name_the_file(tmp_path, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_user_mesh(path, "chair")
    msg = str(info.value)
    assert name in msg and "\n" not in msg


def test_load_user_mesh_unknown_category(tmp_path):
    path = tmp_path / "box.obj"
    trimesh.creation.box().export(path)
    with pytest.raises(InputError, match="unknown object label"):
        load_user_mesh(path, "giraffe")


def test_object_sources_table(tmp_path):
    """The object stage's one entry point picks the library, or the user's file when one is given."""
    from hoirecon.errors import InputError
    from hoirecon.objects import OBJECT_SOURCES, build_mesh, object_mesh

    assert set(OBJECT_SOURCES) == {"library", "file"}
    assert object_mesh("chair") is build_mesh("chair")
    p = tmp_path / "box.obj"
    p.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n")
    user = object_mesh("chair", p)
    assert user.category == "chair" and len(user.vertices) == 4
    with pytest.raises(InputError, match="needs a mesh file"):
        object_mesh("chair", source="file")
    with pytest.raises(InputError, match="unknown object source"):
        object_mesh("chair", source="shapenet")
