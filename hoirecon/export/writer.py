"""Write every output of a reconstruction into one folder, all or nothing.

Files (names are the keys of the returned mapping):

* ``scene.glb`` — nodes ``human`` and ``object_<category>`` in the export frame (``world``: +Y up,
  standing on the floor at Y = 0; or ``camera``: glTF's +Y up, +Z toward the camera; see
  :mod:`hoirecon.export.world`), and ``photo_camera``, the photo's camera (``mesh_io.gltf_camera``);
  ``human`` is a skinned mesh with the body model's skeleton as fitted when ``recon.skin`` is given
  (:mod:`hoirecon.export.skin`);
* ``scene.obj`` — the same two meshes as OBJ objects, same frame, with ``scene.mtl`` (one material
  per mesh);
* ``human.obj``, ``object.obj`` — each mesh alone, with ``human.mtl`` and ``object.mtl``;
* ``params.json`` — camera, body and object parameters, contacts, detections, losses, timings;
* ``overlay.png`` — the meshes shaded over the photo;
* ``config.json`` — the resolved configuration.

Vertex colours: human (200, 200, 200) grey with contact vertices red (230, 40, 40); object light blue
(90, 150, 230) with contact vertices orange (255, 150, 0). Where per-vertex contact probabilities
exist the colour is blended by ``max(probability, 1 if the vertex is in the contact set else 0)``.

Nothing here needs a live model: the contact pictures are drawn from the view sets the contact
stage left in ``recon.contact_views`` (see :func:`hoirecon.export.contact_views.write_contact_outputs`).

Everything is first written into a temporary sibling folder of ``out_dir``; only once all files exist
are they moved into ``out_dir`` (a single folder rename if ``out_dir`` does not exist yet, else one
``os.replace`` per file), so a failure leaves ``out_dir`` as it was and no temporary files behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

from hoirecon import fsutil
from hoirecon.export import mesh_io, params as params_mod
from hoirecon.export.skin import add_skin
from hoirecon.export.world import export_transform
from hoirecon.export import overlay as overlay_mod
from hoirecon.types import Reconstruction

__all__ = ["write_outputs", "vertex_colors", "object_node_name", "OUTPUT_FILES",
           "HUMAN_COLOR", "HUMAN_CONTACT_COLOR", "OBJECT_COLOR", "OBJECT_CONTACT_COLOR"]

log = logging.getLogger(__name__)

HUMAN_COLOR = (200, 200, 200)
HUMAN_CONTACT_COLOR = (230, 40, 40)
OBJECT_COLOR = (90, 150, 230)
OBJECT_CONTACT_COLOR = (255, 150, 0)

OUTPUT_FILES = ("scene.glb", "scene.obj", "scene.mtl", "human.obj", "human.mtl", "object.obj", "object.mtl",
                "params.json", "overlay.png", "config.json", "human_contacts.png", "object_contacts.png")  # fmt: skip


def object_node_name(category: str) -> str:
    return mesh_io.safe_name(f"object_{category}")


def vertex_colors(
    num_vertices: int,
    base: tuple[int, int, int],
    contact: tuple[int, int, int],
    contact_idx: np.ndarray,
    prob: np.ndarray | None = None,
    name: str = "mesh",
) -> np.ndarray:
    """(V, 4) uint8 RGBA: ``base`` blended towards ``contact`` by the contact weight per vertex."""
    w = np.zeros(num_vertices, np.float64)
    if prob is not None:
        p = np.asarray(prob, dtype=np.float64).reshape(-1)
        if len(p) == num_vertices:
            w = np.clip(np.nan_to_num(p, nan=0.0), 0.0, 1.0)
        else:
            log.warning("%s: contact probabilities have %d values for %d vertices; ignored", name, len(p), num_vertices)
    idx = np.asarray(contact_idx, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= num_vertices):
        raise ValueError(f"{name}: contact vertex index out of range [0, {num_vertices})")
    w[idx] = 1.0
    b, c = np.asarray(base, np.float64), np.asarray(contact, np.float64)
    rgb = np.round(b[None] * (1.0 - w[:, None]) + c[None] * w[:, None])
    rgba = np.empty((num_vertices, 4), np.uint8)
    rgba[:, :3] = np.clip(rgb, 0, 255).astype(np.uint8)
    rgba[:, 3] = 255
    return rgba


def _meshes(recon: Reconstruction) -> list[mesh_io.MeshSpec]:
    body, obj, con = recon.fit.body, recon.fit.object, recon.contacts
    hv = np.asarray(body.vertices, dtype=np.float32)
    ov = np.asarray(obj.vertices, dtype=np.float32)
    hc = vertex_colors(len(hv), HUMAN_COLOR, HUMAN_CONTACT_COLOR, con.human_vertices, con.human_prob, "human")
    oc = vertex_colors(len(ov), OBJECT_COLOR, OBJECT_CONTACT_COLOR, con.object_vertices, con.object_prob, "object")
    return [
        ("human", hv, np.asarray(body.faces, dtype=np.int64), hc),
        (object_node_name(obj.mesh.category), ov, np.asarray(obj.mesh.faces, dtype=np.int64), oc),
    ]


def _write_png(path: Path, rgb: np.ndarray) -> None:
    with fsutil.atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(tmp, format="PNG")


def write_outputs(recon: Reconstruction, out_dir: str | os.PathLike[str], frame: str = "world") -> dict[str, Path]:
    """Write all outputs of ``recon`` into ``out_dir`` (created if needed), all or nothing.

    Returns ``{"scene.glb": Path, "scene.obj": ..., "human.obj": ..., "object.obj": ...,
    "params.json": ..., "overlay.png": ..., "config.json": ..., "human_contacts.png": ...,
    "object_contacts.png": ...}`` with paths inside ``out_dir``. The two contact pictures are
    InteractVLM-style 2x2 view grids drawn from ``recon.contact_views`` (the contact stage's renders of
    the canonical open-pose body and of the object; see ``contact_views.write_contact_outputs`` for
    what is used when a view set is missing). Only ``recon`` is read: no body model, no network.
    Existing files of the same names are replaced; other files in ``out_dir`` are left alone. An
    existing ``out_dir`` must be hoirecon's (its ``.hoirecon`` marker, written with the outputs) or
    empty: a user's own folder is refused with InputError before anything is written. ``frame``: the
    frame of the mesh files, ``world`` (standing on the floor) or ``camera``
    (:mod:`hoirecon.export.world`); params.json stays in the camera frame and records the transform.

    """
    out_dir = Path(out_dir)
    fsutil.check_output(out_dir)  # a file, a read-only or a user's own folder: InputError, nothing written
    parent = out_dir.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    # os.mkdir (not mkdtemp, which makes it 0700) so that the folder, if renamed to out_dir, gets the
    # usual permissions (0777 & ~umask); the files get the same minus the execute bits.
    while True:
        tmp = parent / f".{out_dir.name}.{uuid.uuid4().hex[:12]}.part"
        try:
            os.mkdir(tmp)
            break
        except FileExistsError:
            continue
    file_mode = stat.S_IMODE(tmp.stat().st_mode) & 0o666
    try:
        meshes = _meshes(recon)
        human, obj = meshes
        T = export_transform(recon, frame)
        glb = mesh_io.glb_bytes(meshes, camera=recon.image.original_camera(), transform=T)
        if recon.skin is not None:
            glb = add_skin(glb, human[0], recon.skin, T)
        fsutil.write_bytes(tmp / "scene.glb", glb)
        mesh_io.write_obj(tmp / "scene.obj", meshes, transform=T)
        mesh_io.write_obj(tmp / "human.obj", [human], transform=T)
        mesh_io.write_obj(tmp / "object.obj", [obj], transform=T)
        fsutil.write_json(tmp / "params.json", params_mod.build_params(recon, frame=frame, camera_to_export=T))
        fsutil.write_json(tmp / "config.json", params_mod.jsonable(recon.config))
        overlay = overlay_mod.render_overlay(
            recon.image.rgb,
            recon.image.camera,
            [(m[1], m[2], m[3][:, :3].astype(np.float32) / 255.0) for m in meshes],
        )
        _write_png(tmp / "overlay.png", overlay)
        from hoirecon.export.contact_views import write_contact_outputs

        write_contact_outputs(recon, out_dir=tmp)  # from recon.contact_views (the localizer's renders)

        fsutil.write_marker(tmp)
        missing = [n for n in OUTPUT_FILES if not (tmp / n).is_file()]
        if missing:
            raise RuntimeError(f"export did not produce {missing}")
        for name in (*OUTPUT_FILES, fsutil.MARKER):
            os.chmod(tmp / name, file_mode)  # fsutil's temp files are 0600
        if not out_dir.exists():
            try:
                os.rename(tmp, out_dir)  # the whole set appears at once
            except OSError:  # e.g. created concurrently: fall back to moving file by file
                out_dir.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            for name in (*OUTPUT_FILES, fsutil.MARKER):
                os.replace(tmp / name, out_dir / name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return {name: out_dir / name for name in OUTPUT_FILES}
