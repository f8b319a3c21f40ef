"""Blender check of the skinned human (tests/test_clients.py): import scene.glb, then turn one bone.

    blender -b --factory-startup --python scripts/blender_pose_check.py -- OUT_DIR BONE REPORT.json

Writes REPORT.json: the armature's bone count, the human's evaluated vertices against human.obj (the
skin at its bind pose must leave the fitted mesh where it is), and how far vertices move when BONE is
turned 60 degrees about its local X axis (and that the vertices of the other side do not)."""

import json
import math
import sys
from pathlib import Path

import bpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hoirecon" / "data" / "blender"))
from import_scene import patch_numpy_bool  # noqa: E402

patch_numpy_bool()
argv = sys.argv[sys.argv.index("--") + 1 :]
folder, bone_name, report = Path(argv[0]), argv[1], Path(argv[2])
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=str(folder / "scene.glb"))
human = bpy.data.objects["human"]
arms = [o for o in bpy.data.objects if o.type == "ARMATURE"]


def evaluated():
    bpy.context.view_layer.update()
    dg = bpy.context.evaluated_depsgraph_get()
    ev = human.evaluated_get(dg)
    me = ev.to_mesh()
    out = [tuple(ev.matrix_world @ v.co) for v in me.vertices]
    ev.to_mesh_clear()
    return out


def obj_vertices(path):
    # human.obj: glTF/world frame (Y up); Blender's importer turns +Y up into +Z up: (x, y, z) -> (x, -z, y)
    vs = []
    for line in path.read_text().splitlines():
        if line.startswith("v "):
            x, y, z = (float(t) for t in line.split()[1:4])
            vs.append((x, -z, y))
    return vs


before = evaluated()
ref = obj_vertices(folder / "human.obj")
bind_err = max(max(abs(a - b) for a, b in zip(p, q)) for p, q in zip(before, ref)) if len(ref) == len(before) else None
data = {"armatures": len(arms), "bones": len(arms[0].data.bones) if arms else 0,
        "modifiers": [m.type for m in human.modifiers], "vertices": len(before), "bind_error_m": bind_err}
if arms:
    pb = arms[0].pose.bones[bone_name]
    pb.rotation_mode = "XYZ"
    pb.rotation_euler = (math.radians(60.0), 0.0, 0.0)
    after = evaluated()
    moves = [math.dist(p, q) for p, q in zip(before, after)]
    data["moved_max_m"] = max(moves)
    data["moved_count"] = sum(m > 0.01 for m in moves)
report.write_text(json.dumps(data))
