"""Import a hoirecon output folder into Blender (headless) and check what an artist would see.

    blender -b --factory-startup --python-exit-code 1 --python scripts/blender_check.py -- OUT_DIR \
        [--min-height 1.4] [--max-height 2.1] [--max-contact-cm 5] [--json report.json]

OUT_DIR is one reconstruction folder (scene.glb, scene.obj, human.obj). Checks, each printed as
``PASS``/``FAIL``/``INFO`` with its numbers (``--json`` also writes them):

glb  * ``import_scene.gltf`` gives mesh objects ``human`` and exactly one ``object_<category>``;
     * the imported human is where the file says, turned to Blender's +Z up: its bounding box equals
       that of human.obj's vertices mapped (x, y, z)_file -> (x, -z, y)_Blender, within 1 mm;
     * upright along +Z: the vertical (Z) extent is the largest of the three and within
       [--min-height, --max-height] metres; the head is up: more vertices in the top 15 % of the
       height than in the bottom 15 % (the head and face are the densest part of the Anny and
       SMPL-X meshes; an upside-down body fails this);
     * vertex colours reach the material: the mesh has a colour attribute, and a Color Attribute /
       Attribute node reading it is linked (directly or through other nodes) into the Principled
       BSDF's Base Color; the colours are the exported ones (mostly grey, contact vertices red);
     * the object sits at the contact body parts: the closest 30 % of the red (contact) human vertices
       are within --max-contact-cm of the object's surface (their 30th percentile; the red region is
       the whole estimated contact region, a palm and its fingers, of which the fit brings the closest
       part into contact, as the fit's own contact_distance_m counts it), and the closest one much
       closer; a frame or unit mistake would put them metres away;
obj  * ``wm.obj_import`` (defaults: forward -Z, up Y) gives the same object names and the same
       bounding boxes as the GLB (1 mm), and the ``v x y z r g b`` colours arrive as a colour
       attribute with the same red contact vertices as the GLB (count within 5 %: Blender keeps the
       GLB's colours as 8-bit sRGB and the OBJ's as floats, so blended vertices near the threshold
       may fall either side).

Blender 3.4.1 as packaged by Debian 12 pairs its glTF importer (which uses ``np.bool``) with NumPy
1.24 (which removed it): this script restores the alias before importing; run by hand in that
Blender, a GLB import fails the same way without it.

Exit code 0 when every check passes, 1 otherwise (also on any Python error with --python-exit-code 1).
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

import bpy
from mathutils import Vector
from mathutils.bvhtree import BVHTree

# Debian 12's Blender 3.4.1 glTF importer uses np.bool, which NumPy 1.24 (Debian's) removed: the
# workaround of the Blender script shipped in the package (hoirecon/data/blender/import_scene.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hoirecon" / "data" / "blender"))
from import_scene import patch_numpy_bool  # noqa: E402

patch_numpy_bool()

argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
ap = argparse.ArgumentParser(prog="blender_check.py")
ap.add_argument("out_dir")
ap.add_argument("--min-height", type=float, default=1.4)
ap.add_argument("--max-height", type=float, default=2.1)
ap.add_argument("--max-contact-cm", type=float, default=5.0)
ap.add_argument("--json", default=None)
args = ap.parse_args(argv)
out = Path(args.out_dir)

report = {"blender": bpy.app.version_string, "out_dir": str(out), "checks": []}


def check(name, ok, detail):
    status = "PASS" if ok is True else ("INFO" if ok is None else "FAIL")
    report["checks"].append({"check": name, "status": status, "detail": detail})
    print(f"{status} {name}: {detail}", flush=True)


def clear():
    bpy.ops.wm.read_factory_settings(use_empty=True)


def mesh_objects():
    return {o.name: o for o in bpy.context.scene.objects if o.type == "MESH"}


def world_vertices(obj):
    mw = obj.matrix_world
    return [mw @ v.co for v in obj.data.vertices]


def bbox(points):
    lo = Vector((min(p.x for p in points), min(p.y for p in points), min(p.z for p in points)))
    hi = Vector((max(p.x for p in points), max(p.y for p in points), max(p.z for p in points)))
    return lo, hi


def bbox_diff(a, b):
    return max(max(abs(x - y) for x, y in zip(a[0], b[0])), max(abs(x - y) for x, y in zip(a[1], b[1])))


def obj_file_vertices(path, name):
    """Vertices of object ``name`` in an OBJ written by hoirecon, mapped to Blender's axes."""
    pts, current = [], None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("o "):
                current = line[2:].strip()
            elif line.startswith("v ") and current == name:
                x, y, z = (float(t) for t in line.split()[1:4])
                pts.append(Vector((x, -z, y)))
    return pts


def color_attribute(mesh):
    attrs = getattr(mesh, "color_attributes", None)
    if attrs is not None and len(attrs):
        return attrs.active_color if attrs.active_color is not None else attrs[0]
    if len(mesh.vertex_colors):  # older API
        return mesh.vertex_colors.active
    return None


def vertex_rgb(mesh, attr):
    """One linear RGB triple per vertex (corner colours averaged for corner-domain attributes)."""
    n = len(mesh.vertices)
    if getattr(attr, "domain", "CORNER") == "POINT":
        return [tuple(d.color[:3]) for d in attr.data]
    acc = [[0.0, 0.0, 0.0, 0] for _ in range(n)]
    for loop in mesh.loops:
        c = attr.data[loop.index].color
        a = acc[loop.vertex_index]
        a[0] += c[0]; a[1] += c[1]; a[2] += c[2]; a[3] += 1  # noqa: E702
    return [(a[0] / a[3], a[1] / a[3], a[2] / a[3]) if a[3] else (0.0, 0.0, 0.0) for a in acc]


def upstream_nodes(link_target_socket, tree):
    seen, stack, nodes = set(), [link_target_socket], []
    while stack:
        sock = stack.pop()
        for link in tree.links:
            if link.to_socket == sock and link.from_node.name not in seen:
                seen.add(link.from_node.name)
                nodes.append(link.from_node)
                stack.extend(link.from_node.inputs)
    return nodes


def material_uses_colors(obj, attr_name):
    for slot in obj.material_slots:
        mat = slot.material
        if mat is None or not mat.use_nodes:
            continue
        tree = mat.node_tree
        for node in tree.nodes:
            if node.type != "BSDF_PRINCIPLED":
                continue
            for up in upstream_nodes(node.inputs["Base Color"], tree):
                if up.type == "VERTEX_COLOR" and up.layer_name in ("", attr_name):
                    return True, f"material '{mat.name}': Color Attribute node '{up.layer_name or '(active)'}' -> Base Color"
                if up.type == "ATTRIBUTE" and up.attribute_name == attr_name:
                    return True, f"material '{mat.name}': Attribute node '{attr_name}' -> Base Color"
    return False, "no Color Attribute node linked into a Principled BSDF's Base Color"


# ----------------------------------------------------------------------------------------------- GLB

glb = out / "scene.glb"
clear()
bpy.ops.import_scene.gltf(filepath=str(glb))
objs = mesh_objects()
names = sorted(objs)
object_names = [n for n in names if n.startswith("object_")]
check("glb: node names", "human" in objs and len(object_names) == 1, f"mesh objects {names}")
if "human" not in objs or len(object_names) != 1:
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    sys.exit(1)
human, obj = objs["human"], objs[object_names[0]]
hv = world_vertices(human)
ov = world_vertices(obj)
hb = bbox(hv)
expected = obj_file_vertices(out / "human.obj", "human")
d = bbox_diff(hb, bbox(expected)) if expected else float("inf")
check("glb: placement (file +Y up -> Blender +Z up)", d < 1e-3, f"bounding box differs from human.obj's by {d * 1000:.3f} mm")

ext = hb[1] - hb[0]
height = ext.z
check("glb: upright, metric height", ext.z >= max(ext.x, ext.y) and args.min_height <= height <= args.max_height,
      f"extent x {ext.x:.3f} y {ext.y:.3f} z {ext.z:.3f} m (height {height:.3f} m, allowed {args.min_height}-{args.max_height})")
zlo, zhi = hb[0].z, hb[1].z
top = sum(1 for p in hv if p.z > zhi - 0.15 * height)
bottom = sum(1 for p in hv if p.z < zlo + 0.15 * height)
check("glb: head up (+Z)", top > bottom, f"{top} vertices in the top 15 % of the height, {bottom} in the bottom 15 %")

attr = color_attribute(human.data)
check("glb: colour attribute", attr is not None,
      f"'{attr.name}' ({getattr(attr, 'domain', '?')}, {getattr(attr, 'data_type', '?')})" if attr else "none")
contact_idx = []
if attr is not None:
    ok, detail = material_uses_colors(human, attr.name)
    check("glb: vertex colours reach the material", ok, detail)
    rgb = vertex_rgb(human.data, attr)
    contact_idx = [i for i, c in enumerate(rgb) if c[0] > 0.4 and c[0] > 2.5 * c[1]]
    grey = sum(1 for c in rgb if abs(c[0] - c[1]) < 0.05 and abs(c[1] - c[2]) < 0.05 and c[0] > 0.3)
    check("glb: exported colours (grey body, red contacts)", grey > 0.5 * len(rgb) and len(contact_idx) > 0,
          f"{grey} grey, {len(contact_idx)} red of {len(rgb)} vertices")
    oattr = color_attribute(obj.data)
    check("glb: object colour attribute", oattr is not None, oattr.name if oattr else "none")

faces = [tuple(p.vertices) for p in obj.data.polygons]
tree = BVHTree.FromPolygons(ov, faces)
if contact_idx:
    dists = [tree.find_nearest(hv[i])[3] for i in contact_idx]
    near = sorted(dists)[int(0.3 * (len(dists) - 1))]  # 30th percentile
    med, mn = statistics.median(dists), min(dists)
    check("glb: object at the contact body parts", near * 100 <= args.max_contact_cm and mn * 100 <= args.max_contact_cm / 2,
          f"red human vertices to the object surface: 30th percentile {near * 100:.2f} cm, median {med * 100:.2f} cm, "
          f"min {mn * 100:.2f} cm (limit {args.max_contact_cm} cm)")
else:
    check("glb: object at the contact body parts", False, "no contact (red) vertices to measure from")
glb_boxes = {n: bbox(world_vertices(o)) for n, o in objs.items()}
params = json.loads((out / "params.json").read_text())
T = params["frames"].get("camera_to_export", [[1, 0, 0, 0], [0, -1, 0, 0], [0, 0, -1, 0], [0, 0, 0, 1]])


def to_blender(x, y, z):  # glTF (+Y up) -> Blender (+Z up), as the importer maps it
    return Vector((x, -z, y))


cams = [o for o in bpy.context.scene.objects if o.type == "CAMERA"]
if cams:  # the photo's camera: where params.json's camera_to_export puts it, along its optical axis, its vertical FOV
    import math

    cam = cams[0]
    fwd = cam.matrix_world.to_3x3() @ Vector((0.0, 0.0, -1.0))
    want_pos = to_blender(T[0][3], T[1][3], T[2][3])
    want_fwd = to_blender(T[0][2], T[1][2], T[2][2])  # the camera frame's +z (optical axis)
    c = params["camera"]
    want = 2 * math.atan(0.5 * c["height"] / c["fy"])
    got = cam.data.angle_y if cam.data.sensor_fit != "HORIZONTAL" else 2 * math.atan(
        math.tan(0.5 * cam.data.angle_x) * c["height"] / c["width"])
    check("glb: photo camera", cam.name.startswith("photo_camera") and fwd.dot(want_fwd) > 0.999
          and (cam.location - want_pos).length < 1e-4 and abs(got - want) < 1e-3,
          f"'{cam.name}' at {tuple(round(x, 3) for x in cam.location)} (want {tuple(round(x, 3) for x in want_pos)}), "
          f"forward {tuple(round(x, 4) for x in fwd)}, vertical FOV {math.degrees(got):.3f} deg (photo: {math.degrees(want):.3f})")
else:
    check("glb: photo camera", False, "no camera object after import")
if params["frames"].get("export") == "world":  # the scene stands on the floor, Blender Z = 0
    low = min(min(p.z for p in world_vertices(o)) for o in objs.values())
    check("glb: on the floor (world frame, Z = 0)", abs(low) <= 0.05, f"lowest point at Z = {low * 100:.1f} cm")

# ----------------------------------------------------------------------------------------------- OBJ

clear()
bpy.ops.wm.obj_import(filepath=str(out / "scene.obj"))
objs2 = mesh_objects()
check("obj: object names", sorted(objs2) == names, f"mesh objects {sorted(objs2)}")
for n in names:
    if n in objs2:
        d = bbox_diff(bbox(world_vertices(objs2[n])), glb_boxes[n])
        check(f"obj: '{n}' placed as in the GLB", d < 1e-3, f"bounding boxes differ by {d * 1000:.3f} mm")
if "human" in objs2:
    a2 = color_attribute(objs2["human"].data)
    if a2 is not None:
        rgb2 = vertex_rgb(objs2["human"].data, a2)
        red2 = sum(1 for c in rgb2 if c[0] > 0.4 and c[0] > 2.5 * c[1])
        n = len(contact_idx)  # Blender stores the GLB's colours as 8-bit sRGB, the OBJ's as floats: near
        tol = max(3, round(0.05 * n))  # the red threshold a few blended vertices may fall either side
        check("obj: vertex colours", red2 > 0 and abs(red2 - n) <= tol,
              f"'{a2.name}': {red2} red vertices (GLB: {n}, tolerance {tol})")
    else:
        check("obj: vertex colours", False, "no colour attribute after import")

failed = [c for c in report["checks"] if c["status"] == "FAIL"]
report["ok"] = not failed
if args.json:
    Path(args.json).write_text(json.dumps(report, indent=2))
print(f"blender_check: {len(report['checks']) - len(failed)} passed, {len(failed)} failed", flush=True)
sys.exit(1 if failed else 0)
