"""Export stage: GLB/OBJ meshes (glTF frame: +Y up, +Z toward the camera, metres), params.json
(versioned: ``schema_version``, schema in ``hoirecon/data/schemas/``), overlay.png, contact pictures
and config.json, all from a Reconstruction alone (:func:`write_outputs`); more formats from a result
folder through the :data:`hoirecon.export.formats.EXPORTERS` table. The camera -> glTF frame
conversion happens here and only here (with :mod:`hoirecon.geometry.frames`)."""

from hoirecon.export.mesh_io import glb_bytes, to_gltf_frame, write_glb, write_obj
from hoirecon.export.overlay import render_overlay
from hoirecon.export.params import SCHEMA_VERSION, build_params, jsonable
from hoirecon.export.writer import write_outputs

__all__ = ["write_outputs", "render_overlay", "write_glb", "glb_bytes", "write_obj", "build_params", "jsonable",
           "to_gltf_frame", "SCHEMA_VERSION"]  # fmt: skip
