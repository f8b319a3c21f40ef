"""Object mesh library: category table, label resolution, procedural meshes, user meshes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from hoirecon.errors import InputError
from hoirecon.objects import (ObjectProperties, build_mesh, catalog, categories, load_user_mesh, match_label, models,
                              properties, resolve_label, size_prior)
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
# the fit's pose prior of the first 19 categories: stands on the ground ("upright") or hand-held ("any");
# these are the values contacts.json held under "init" before they moved to objects.json as "pose_prior"
UPRIGHT = {"chair", "bench", "bicycle", "motorcycle", "skateboard", "skis", "laptop", "backpack", "suitcase",
           "table", "camera_tripod"}
PYTHON_BUILT = list(EXPECTED_PARTS)  # the first 19 categories keep their Python builders; the rest are data
ALL = list(categories())
# every procedural mesh is built from closed, outward-wound pieces (no category says otherwise)
WATERTIGHT = set(ALL)

# COCO classes a person holds, rides, sits or lies on, wears, pushes or carries, and common others: each
# label (as a detector writes it) resolves to its own category by exact name or synonym
OWN_CATEGORY = {
    "cell phone": "cell_phone", "remote": "remote", "book": "book", "keyboard": "keyboard", "mouse": "mouse",
    "scissors": "scissors", "knife": "knife", "fork": "fork", "spoon": "spoon", "bowl": "bowl",
    "wine glass": "wine_glass", "toothbrush": "toothbrush", "hair drier": "hair_drier", "hair dryer": "hair_drier",
    "frisbee": "frisbee", "kite": "kite", "snowboard": "snowboard", "baseball glove": "baseball_glove",
    "handbag": "handbag", "tie": "tie", "teddy bear": "teddy_bear", "vase": "vase", "couch": "couch",
    "sofa": "couch", "settee": "couch", "bed": "bed", "toilet": "toilet", "tv": "tv", "microwave": "microwave",
    "oven": "oven", "refrigerator": "refrigerator", "sink": "sink", "potted plant": "potted_plant",
    "horse": "horse", "dog": "dog", "cat": "cat", "elephant": "elephant", "fire hydrant": "fire_hydrant",
    "toaster": "toaster", "clock": "clock", "banana": "banana", "apple": "apple", "orange": "orange",
    "sandwich": "sandwich", "hot dog": "hot_dog", "pizza": "pizza", "donut": "donut", "cake": "cake",
    "carrot": "carrot", "broccoli": "broccoli", "stool": "stool", "bar stool": "stool", "tablet": "tablet",
    "guitar": "guitar", "violin": "violin", "drum": "drum", "barbell": "barbell", "dumbbell": "dumbbell",
    "kettlebell": "kettlebell", "bear": "bear", "yoga mat": "yoga_mat", "broom": "broom", "box": "box",
    "basket": "basket",
    "shopping cart": "shopping_cart", "stroller": "stroller", "ladder": "ladder", "bucket": "bucket",
    "pan": "pan", "frying pan": "pan", "shovel": "shovel", "hammer": "hammer", "wheelchair": "wheelchair",
    "chair": "chair", "bench": "bench", "dining table": "table", "bicycle": "bicycle", "motorcycle": "motorcycle",
    "skateboard": "skateboard", "surfboard": "surfboard", "skis": "skis", "laptop": "laptop", "cup": "cup",
    "bottle": "bottle", "tennis racket": "tennis_racket", "baseball bat": "baseball_bat", "umbrella": "umbrella",
    "backpack": "backpack", "suitcase": "suitcase", "sports ball": "sports_ball",
}


def _part_centre(mesh: ObjectMesh, part: str) -> np.ndarray:
    return mesh.vertices[mesh.part_vertices(part)].astype(np.float64).mean(0)


# ---------------------------------------------------------------------------------------- table


def test_table_has_exact_categories_and_parts():
    table = categories()
    assert set(EXPECTED_PARTS) <= set(table) and len(table) >= 62
    assert list(table)[:2] == ["chair", "bench"] and "_doc" not in table
    for key, entry in table.items():
        if key in EXPECTED_PARTS:
            assert entry["parts"] == EXPECTED_PARTS[key]
        assert len(entry["parts"]) >= 2 or entry.get("parts_note"), key  # two parts people touch, or why not
        assert entry["size_source"] in catalog.SIZE_SOURCES, key
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
    assert list(models.builders()) == PYTHON_BUILT  # the Python builders: the first 19, in table order
    for key, entry in categories().items():
        assert models.builder_for(key) is not None
        # a category is either data (a shape) or a Python builder, never both
        assert ("shape" in entry) == (key not in models.builders()), key
    assert models.builder_for("couch").__name__ == "shape_of_couch"
    assert models.builder_for("giraffe") is None
    with pytest.raises(ValueError, match="two builders"):
        models.builder("chair")(lambda: [])


def test_properties():
    table = categories()
    for key, entry in table.items():
        props = properties(key)
        assert isinstance(props, ObjectProperties) and props.key == key
        assert props.upright == (entry["pose_prior"] == "upright")
        if key in EXPECTED_PARTS:
            assert props.upright == (key in UPRIGHT)
        assert props.size_source == entry["size_source"]
        assert props.pose_prior == entry["pose_prior"]
        assert props.symmetry == entry["symmetry"] == build_mesh(key).symmetry
        assert props.size_prior == (props.size_m, props.scale_sigma) == size_prior(key)
        makes = [syn for v in entry.get("variants", []) for syn in v["synonyms"]]  # a make's labels name the category
        assert props.parts == tuple(entry["parts"]) and props.synonyms == tuple(dict.fromkeys([*entry["synonyms"], *makes]))
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
    assert list(mesh.part_names) == categories()[key]["parts"]
    for name in mesh.part_names:
        assert len(mesh.part_vertices(name)) >= 8, name
    # closed, outward-wound surface
    tm = trimesh.Trimesh(v.astype(np.float64), f, process=False)
    if key in WATERTIGHT:
        assert tm.is_watertight
        assert tm.is_winding_consistent
        assert tm.volume > 0
    assert tm.area_faces.min() > 0


@pytest.mark.parametrize("key", ALL)
def test_built_at_real_size(key):
    """The builder's own output (metres, before the library scales it) is within 5 % of size_m: the
    data's dimensions and the size fact agree."""
    v, _, _, _ = S.merge(models.builder_for(key)(), part_names=categories()[key]["parts"])
    extent = float((v.max(0) - v.min(0)).max())
    assert extent == pytest.approx(categories()[key]["size_m"], rel=0.05)


def test_every_category_has_modes_naming_its_parts():
    from hoirecon.contact.priors import category_modes

    for key, entry in categories().items():
        modes = category_modes(key)
        assert modes, key
        touched = {pair["object"] for mode in modes for pair in mode["pairs"]}
        assert touched <= set(entry["parts"]), key


@pytest.mark.parametrize("label,key", sorted(OWN_CATEGORY.items()))
def test_coco_and_common_labels_resolve_to_their_own_category(label, key):
    hit = match_label(label)
    assert hit is not None and hit[0] == key, (label, hit)
    assert resolve_label(label) == key


def test_couch_and_stool_are_their_own_categories():
    table = categories()
    assert not {"couch", "sofa", "settee"} & set(table["bench"]["synonyms"])
    assert "stool" not in table["chair"]["synonyms"]
    assert {"sofa", "settee"} <= set(table["couch"]["synonyms"])
    names = [n for entry in table.values() for n in entry["synonyms"]]
    assert len(names) == len(set(names)), "a synonym names two categories"
    assert not set(names) & {k.replace("_", " ") for k in table if k.replace("_", " ") not in table[k]["synonyms"]}


def _raw_extent(key: str, part: str) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) corner of ``part`` in the builders' frame (y up, front +z, metres)."""
    v, _, pov, names = S.merge(models.builder_for(key)(), part_names=categories()[key]["parts"])
    sel = v[pov == names.index(part)]
    return sel.min(0), sel.max(0)


def test_orientation_facts_of_data_categories():
    """Heights people sit, lie and lean at, and where the parts are (builders' frame: y up, front +z)."""
    for key, part, top in (("couch", "seat", 0.45), ("stool", "seat", 0.65), ("toilet", "seat", 0.41),
                           ("bed", "mattress", 0.55), ("wheelchair", "seat", 0.52), ("sink", "basin", 0.85),
                           ("oven", "hob", 0.9), ("shopping_cart", "handle", 1.0), ("horse", "back", 1.6)):
        assert _raw_extent(key, part)[1][1] == pytest.approx(top, abs=0.03), key
    assert _raw_extent("couch", "backrest")[0][2] < _raw_extent("couch", "seat")[0][2]  # backrest behind (-z)
    assert _raw_extent("bed", "headboard")[1][2] < _raw_extent("bed", "pillow")[0][2]  # pillows at the head end
    assert _raw_extent("horse", "head")[0][2] > _raw_extent("horse", "body")[1][2] - 0.3  # head in front (+z)
    assert _raw_extent("tv", "screen")[1][2] > _raw_extent("tv", "frame")[1][2]  # screen faces +z
    assert _raw_extent("shopping_cart", "handle")[1][2] < 0  # pushed from behind
    for key in ("barbell", "yoga_mat", "snowboard", "couch", "bed"):
        ext = np.ptp(build_mesh(key).vertices, axis=0)
        assert ext[1] < ext.max()  # lies long, not tall
    for key in ("refrigerator", "ladder", "guitar", "potted_plant"):
        ext = np.ptp(build_mesh(key).vertices, axis=0)
        assert ext[1] == ext.max()  # stands tall


# ------------------------------------------------------------------------------- shape schema

# one small piece per primitive of the schema (builders' frame, metres)
PRIM_EXAMPLES = {
    "box": {"size": [0.2, 0.1, 0.3]},
    "rounded_box": {"size": [0.2, 0.1, 0.3], "exponent": 4},
    "ellipsoid": {"size": [0.2, 0.1, 0.3]},
    "sphere": {"radius": 0.1},
    "cylinder": {"from": [0, 0, 0], "to": [0, 0.2, 0.1], "radius": 0.03},
    "capsule": {"from": [0, 0, 0], "to": [0.2, 0, 0], "radius": 0.03},
    "cone": {"from": [0, 0, 0], "to": [0, 0.2, 0], "radius": [0.05, 0.0]},
    "tube": {"path": [[0, 0, 0], [0, 0.1, 0], [0.1, 0.2, 0]], "radius": 0.01, "caps": "flat"},
    "arc": {"arc_radius": 0.1, "radius": 0.01, "from_deg": 0, "to_deg": 180},
    "torus": {"major": 0.1, "minor": [0.02, 0.01], "axis": [1, 0, 0]},
    "lathe": {"profile": [[0, 0], [0, 0.05], [0.1, 0.04], [0.1, 0]]},
    "vessel": {"outer": [[0, 0.04], [0.1, 0.06]], "wall": 0.004, "floor": 0.006},
    "board": {"length": 0.8, "width": 0.2, "thickness": 0.02, "plan_exponent": [3, 3],
              "lift": [[-1, 0.05], [0, 0], [1, 0.05]]},
    "prism": {"outline": [[0, 0], [0.1, 0], [0.12, 0.1], [0.05, 0.15], [-0.02, 0.1]], "depth": 0.01},
}


@pytest.mark.parametrize("prim", sorted(PRIM_EXAMPLES))
def test_every_primitive_of_the_schema_builds_closed(prim):
    assert set(PRIM_EXAMPLES) == set(models.PRIMITIVES)
    spec = [{"part": "a", "prim": prim, "at": [0.3, 0.2, -0.1], "rot_deg": [10, 20, 30], **PRIM_EXAMPLES[prim]}]
    pieces = models.shape_pieces("test", spec, parts=["a"], size_m=0.5)
    assert len(pieces) == 1 and pieces[0][0] == "a"
    tm = trimesh.Trimesh(pieces[0][1], pieces[0][2], process=False)
    assert tm.is_watertight and tm.is_winding_consistent and tm.volume > 0
    assert tm.area_faces.min() > 0


def test_shape_placement_rotation_and_mirror():
    box = {"part": "legs", "prim": "box", "size": [0.1, 0.2, 0.3]}
    (_, v, _), = models.shape_pieces("t", [dict(box, rot_deg=[0, 0, 90], at=[1, 2, 3])], parts=["legs"], size_m=1)
    np.testing.assert_allclose(v.max(0) - v.min(0), [0.2, 0.1, 0.3], atol=1e-9)  # turned about z
    np.testing.assert_allclose((v.max(0) + v.min(0)) / 2, [1, 2, 3], atol=1e-9)  # then moved
    pieces = models.shape_pieces("t", [dict(box, at=[0.3, 0.1, 0.4], mirror=["x", "z"])], parts=["legs"], size_m=1)
    centres = sorted(tuple(np.round(p[1].mean(0), 6)) for p in pieces)
    assert centres == [(-0.3, 0.1, -0.4), (-0.3, 0.1, 0.4), (0.3, 0.1, -0.4), (0.3, 0.1, 0.4)]
    for _, v, f in pieces:  # reflected copies stay outward-wound
        assert S.signed_volume(v, f) == pytest.approx(0.1 * 0.2 * 0.3)
    # the default spacing follows the category's size: a bigger size_m, fewer vertices
    fine = models.shape_pieces("t", [box], parts=["legs"], size_m=0.3)[0][1]
    coarse = models.shape_pieces("t", [box], parts=["legs"], size_m=3.0)[0][1]
    assert len(fine) > len(coarse)
    vessel = models.shape_pieces("t", [{"part": "legs", "prim": "vessel", "outer": [[0, 0.05], [0.1, 0.05]],
                                        "wall": 0.005, "floor": 0.01}], parts=["legs"], size_m=0.3)[0]
    solid = np.pi * 0.05**2 * 0.1
    hollow = solid - np.pi * 0.045**2 * 0.09
    assert S.signed_volume(vessel[1], vessel[2]) == pytest.approx(hollow, rel=0.05)  # open-topped, hollow


@pytest.mark.parametrize(
    "piece,message",
    [
        ({"part": "seat", "prim": "blob", "size": [1, 1, 1]}, "unknown primitive"),
        ({"part": "wing", "prim": "box", "size": [1, 1, 1]}, "part must be one of"),
        ({"part": "seat", "prim": "box"}, r"lacks \['size'\]"),
        ({"part": "seat", "prim": "box", "size": [1, 1, 1], "colour": "red"}, r"unknown fields \['colour'\]"),
        ({"part": "seat", "prim": "box", "size": [1, 1]}, "'size' must be 3 numbers"),
        ({"part": "seat", "prim": "box", "size": [1, -1, 1]}, "'size' must be positive"),
        ({"part": "seat", "prim": "sphere", "radius": 0.1, "mirror": ["w"]}, "'mirror' must list"),
        ({"part": "seat", "prim": "sphere", "radius": 0.1, "at": "here"}, "'at' must be 3 numbers"),
        ({"part": "seat", "prim": "cylinder", "from": [0, 0, 0], "to": [0, 0, 0], "radius": 0.1}, "same point"),
        ({"part": "seat", "prim": "lathe", "profile": [[0, 0.1], [1, 0.1], [1, 0]]}, "radius 0 at both ends"),
        ({"part": "seat", "prim": "vessel", "outer": [[0, 0.01], [0.1, 0.01]], "wall": 0.02, "floor": 0.01}, "'wall'"),
        ({"part": "seat", "prim": "prism", "outline": [[0, 0], [1, 0], [0.1, 0.1], [0, 1]], "depth": 0.1},
         "star-shaped"),
        ({"part": "seat", "prim": "arc", "arc_radius": 1, "radius": 0.1, "from_deg": 0, "to_deg": 360}, "torus"),
    ],
)
def test_shape_errors_name_the_category_and_the_piece(piece, message):
    spec = [{"part": "legs", "prim": "sphere", "radius": 0.1}, piece]
    with pytest.raises(ValueError, match=message) as info:
        models.shape_pieces("chair_x", spec, parts=["seat", "legs"], size_m=1.0)
    assert str(info.value).startswith("objects.json: category 'chair_x', shape piece 1 (part ")


def test_shape_errors_for_the_whole_spec():
    with pytest.raises(ValueError, match=r"category 'k': no shape piece builds part\(s\) \['legs'\]"):
        models.shape_pieces("k", [{"part": "seat", "prim": "sphere", "radius": 0.1}], parts=["seat", "legs"], size_m=1)
    with pytest.raises(ValueError, match="non-empty list"):
        models.shape_pieces("k", [], parts=["seat"], size_m=1)


def test_catalog_requires_size_source_and_checks_the_entry(monkeypatch):
    good = {"synonyms": [], "size_m": 1.0, "size_source": "standard", "scale_sigma": 0.1, "symmetry": "none",
            "pose_prior": "any", "support": "none", "parts": ["a", "b"]}
    cases = [({k: v for k, v in good.items() if k != "size_source"}, "lacks \\['size_source'\\]"),
             (dict(good, size_source="guess"), "size_source 'guess'"),
             (dict(good, parts=["a"]), "one part and no parts_note"),
             (dict(good, colour="red"), "unknown fields"),
             (dict(good, shape={}), "shape must be a non-empty list")]
    try:
        for entry, message in cases:
            monkeypatch.setattr(catalog, "_read_table_text", lambda e=entry: json.dumps({"_doc": "x", "thing": e}))
            catalog._raw.cache_clear()
            catalog._records.cache_clear()
            with pytest.raises(ValueError, match=message):
                catalog.category_keys()
        monkeypatch.setattr(catalog, "_read_table_text", lambda: json.dumps({"_doc": "x", "thing": good}))
        catalog._raw.cache_clear()
        catalog._records.cache_clear()
        assert catalog.category_keys() == ("thing",)  # the comment key is no category
    finally:
        monkeypatch.undo()
        catalog._raw.cache_clear()
        catalog._records.cache_clear()
    assert "couch" in catalog.category_keys()


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
        S.prism([(0, 0), (0.1, 0), (0.1, 0.05), (0.05, 0.08), (0, 0.05)], 0.01, spacing=0.01),
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
