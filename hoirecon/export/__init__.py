"""Export stage: GLB/OBJ meshes (glTF frame: +Y up, +Z toward the camera, metres), params.json,
overlay.png and config.json. The camera -> glTF frame conversion happens here and only here."""

from hoirecon.export.mesh_io import to_gltf_frame, write_glb, write_obj
from hoirecon.export.overlay import render_overlay
from hoirecon.export.params import build_params, jsonable
from hoirecon.export.writer import write_outputs

__all__ = ["write_outputs", "render_overlay", "write_glb", "write_obj", "build_params", "jsonable", "to_gltf_frame"]
