"""InteractVLM's files and demo: read its outputs, write its inputs, run its demo.

The two contact sources built on this module: ``hoirecon.contact.interactvlm_import``
(``interactvlm-import``) and ``hoirecon.contact.interactvlm_run`` (``interactvlm-run``).

InteractVLM (CVPR 2025, https://github.com/saidwivedi/InteractVLM; weights under the MPI
non-commercial licence, behind registration) predicts per-vertex human contact and object affordance.
Its demo (``run_demo.py``, wrapped by ``scripts/run_demo.sh``) works in *folder mode* on::

    <img_folder>/<object>__<id>/<object>__<id>.jpg      the photo; <object> is the query ("tennis_racket")
    <img_folder>/<object>__<id>/object_mesh.obj          the object mesh (object affordance only)

and writes, next to the photo,

* ``<object>__<id>_hcontact_vertices.npz``: ``pred_contact_3d_smplh`` (6890,) and
  ``pred_contact_3d_smplx`` (10475,) per-vertex human contact probabilities;
* ``<object>__<id>_oafford_vertices.npz``: ``pred_contact_3d``, one value per vertex of
  ``object_mesh.obj`` in file order (the demo renders it with PyTorch3D's ``load_obj``, which keeps the
  order). Arrays may carry a leading batch axis of 1; we drop it.

**Import** (``interactvlm-import``) reads those files from a folder (searched recursively; with several
candidates the one whose name contains the image's stem wins). The human array must match the body
model: ``pred_contact_3d_smplx`` needs ``--body-model smplx``; SMPL-H (6890) alone cannot be mapped to
our models; an array named ``pred_contact_3d_<model>`` (``_anny``, ``_smplx``) or a plain
``pred_contact_3d`` of the body's vertex count is accepted as is (hand-made or converted files). The
object array must have one value per vertex of the object mesh hoirecon uses: run InteractVLM on the
OBJ that ``interactvlm-run`` writes (``prepare_inputs``). Files are read with
``np.load(allow_pickle=False)``.

**Run** (``interactvlm-run``) writes that folder layout (the photo cropped around the person and object
boxes with a margin; our object mesh as OBJ, y-up, vertex order kept), runs the demo twice from the
checkout (human contact, then object affordance; the command lines are :data:`DEMO`, taken from the
repository's ``scripts/run_demo.sh``; it needs a CUDA GPU and the downloaded weights), then imports.
The Python interpreter is ``$HOIRECON_INTERACTVLM_PYTHON`` or ``python`` on the PATH (InteractVLM needs
its own environment).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hoirecon import fsutil
from hoirecon.errors import HoireconError, InputError, MissingModelError
from hoirecon.geometry.frames import flip_yz
from hoirecon.types import BodyFit, Box, Detections, ImageInput, ObjectMesh

__all__ = [
    "DEMO",
    "HCONTACT_SUFFIX",
    "OAFFORD_SUFFIX",
    "SMPLX_VERTICES",
    "SMPLH_VERTICES",
    "find_outputs",
    "load_human_contacts",
    "load_object_affordance",
    "import_contacts",
    "sample_name",
    "crop_box",
    "write_obj_yup",
    "prepare_inputs",
    "PreparedSample",
    "check_repo",
    "demo_commands",
    "run_demo",
]

HCONTACT_SUFFIX = "_hcontact_vertices.npz"
OAFFORD_SUFFIX = "_oafford_vertices.npz"
SMPLX_VERTICES = 10475
SMPLH_VERTICES = 6890

# InteractVLM's demo (saidwivedi/InteractVLM: scripts/run_demo.sh -> run_demo.py), run from the checkout.
DEMO: dict[str, Any] = {
    "script": "run_demo.py",
    "hcontact": {"model": "trained_models/interactvlm-3d-hcontact-damon", "contact_type": "hcontact"},
    "oafford": {"model": "trained_models/interactvlm-3d-oafford-lemon-piad", "contact_type": "oafford"},
    "data": ["data/hcontact_vitruvian"],  # canonical body renders the human-contact demo reads
    "input_mode": "folder",
    "registration": "https://interactvlm.is.tue.mpg.de",
    "source": "https://github.com/saidwivedi/InteractVLM",
}

_BODY_KEYS = {"smplx": "pred_contact_3d_smplx", "smplh": "pred_contact_3d_smplh"}


# ---------------------------------------------------------------------------------------- import


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in z.files}
    except ValueError as exc:  # pickled object arrays, or not an npz at all
        raise InputError(f"{path}: not a plain numeric .npz file ({exc})") from exc
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc


def _vector(path: Path, key: str, arr: np.ndarray) -> np.ndarray:
    a = np.asarray(arr)
    while a.ndim > 1 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 1 or not np.issubdtype(a.dtype, np.number):
        raise InputError(f"{path}: '{key}' must be a 1-D numeric array of per-vertex values, got shape {arr.shape} ({arr.dtype})")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise InputError(f"{path}: '{key}' holds NaN or infinite values")
    if a.min() < -1e-3 or a.max() > 1 + 1e-3:
        raise InputError(f"{path}: '{key}' values must be probabilities in [0, 1] (found {a.min():.3g} to {a.max():.3g})")
    return np.clip(a, 0.0, 1.0)


def find_outputs(directory: str | os.PathLike[str], stem: str | None = None) -> tuple[Path | None, Path | None]:
    """The ``*_hcontact_vertices.npz`` and ``*_oafford_vertices.npz`` files under ``directory``
    (recursively). With several of one kind, the one whose name contains ``stem`` wins; otherwise
    an InputError lists them. A kind that is absent gives None."""
    d = Path(directory).expanduser()
    if not d.is_dir():
        raise InputError(f"--contacts {directory}: no such folder")

    def pick(suffix: str) -> Path | None:
        found = sorted(p for p in d.rglob(f"*{suffix}") if p.is_file())
        if len(found) <= 1:
            return found[0] if found else None
        if stem:
            key = re.sub(r"[^A-Za-z0-9]+", "", stem).lower()
            hits = [p for p in found if key and key in re.sub(r"[^A-Za-z0-9]+", "", p.name).lower()]
            if len(hits) == 1:
                return hits[0]
        names = ", ".join(str(p.relative_to(d)) for p in found[:6])
        raise InputError(f"--contacts {directory}: several *{suffix} files ({names}); pass the folder of one image")

    return pick(HCONTACT_SUFFIX), pick(OAFFORD_SUFFIX)


def load_human_contacts(path: str | os.PathLike[str], body: BodyFit) -> np.ndarray:
    """(V_body,) float64 human contact probabilities from an InteractVLM ``*_hcontact_vertices.npz``,
    checked against the body's model and vertex count (see the module docstring)."""
    path = Path(path)
    data = _load_npz(path)
    model, nv = body.model_name, len(body.vertices)
    own = f"pred_contact_3d_{model}"
    if own in data:
        a = _vector(path, own, data[own])
        if len(a) != nv:
            raise InputError(f"{path}: '{own}' has {len(a)} values but the {model} body has {nv} vertices")
        return a
    generic = _vector(path, "pred_contact_3d", data["pred_contact_3d"]) if "pred_contact_3d" in data else None
    if generic is not None and len(generic) == nv:
        return generic
    if _BODY_KEYS["smplx"] in data:
        n = len(_vector(path, _BODY_KEYS["smplx"], data[_BODY_KEYS["smplx"]]))
        raise InputError(f"{path}: SMPL-X contacts ({n} vertices) need --body-model smplx "
                         f"(the {model} body has {nv} vertices)")  # fmt: skip
    if _BODY_KEYS["smplh"] in data:
        n = len(_vector(path, _BODY_KEYS["smplh"], data[_BODY_KEYS["smplh"]]))
        raise InputError(f"{path}: only SMPL-H contacts ({n} vertices), which map to neither hoirecon body model; "
                         f"use InteractVLM's {_BODY_KEYS['smplx']} output with --body-model smplx")  # fmt: skip
    if generic is not None:
        raise InputError(f"{path}: 'pred_contact_3d' has {len(generic)} values but the {model} body has {nv} vertices")
    raise InputError(f"{path}: no per-vertex human contact array for the {model} body ({nv} vertices); "
                     f"found {', '.join(sorted(data)) or 'nothing'}")  # fmt: skip


def load_object_affordance(path: str | os.PathLike[str], mesh: ObjectMesh) -> np.ndarray:
    """(V_obj,) float64 object contact probabilities from an InteractVLM ``*_oafford_vertices.npz``."""
    path = Path(path)
    data = _load_npz(path)
    if "pred_contact_3d" not in data:
        raise InputError(f"{path}: no 'pred_contact_3d' array (found {', '.join(sorted(data)) or 'nothing'})")
    a = _vector(path, "pred_contact_3d", data["pred_contact_3d"])
    if len(a) != len(mesh.vertices):
        raise InputError(f"{path}: object affordance has {len(a)} values but the '{mesh.category}' mesh has "
                         f"{len(mesh.vertices)} vertices; run InteractVLM on the object_mesh.obj that "
                         f"--contacts-from interactvlm-run writes")  # fmt: skip
    return a


def import_contacts(directory: str | os.PathLike[str], body: BodyFit, mesh: ObjectMesh,
                    stem: str | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:  # fmt: skip
    """``(human_prob, object_prob, {"hcontact": path, "oafford": path})`` from a folder of demo outputs."""
    h, o = find_outputs(directory, stem)
    if h is None:
        raise InputError(f"--contacts {directory}: no *{HCONTACT_SUFFIX} file (InteractVLM human contact output)")
    if o is None:
        raise InputError(f"--contacts {directory}: no *{OAFFORD_SUFFIX} file (InteractVLM object affordance output)")
    return load_human_contacts(h, body), load_object_affordance(o, mesh), {"hcontact": str(h), "oafford": str(o)}


# ------------------------------------------------------------------------------------------- run


def sample_name(label: str, image_path: str | os.PathLike[str] | None = None) -> str:
    """``<object>__<id>``: the demo reads the query object from the prefix before ``__``."""
    obj = re.sub(r"[^a-z0-9]+", "_", str(label).strip().lower()).strip("_") or "object"
    ident = re.sub(r"[^A-Za-z0-9-]+", "-", Path(image_path).stem if image_path else "").strip("-") or "000000"
    return f"{obj}__{ident}"


def crop_box(boxes: list[Box], width: int, height: int, margin: float = 0.1) -> tuple[int, int, int, int]:
    """Integer ``(x0, y0, x1, y1)`` around the union of ``boxes``, grown by ``margin`` x its larger side
    on each side, clipped to the image."""
    x0 = min(b.x0 for b in boxes)
    y0 = min(b.y0 for b in boxes)
    x1 = max(b.x1 for b in boxes)
    y1 = max(b.y1 for b in boxes)
    m = margin * max(x1 - x0, y1 - y0)
    return (int(max(0, np.floor(x0 - m))), int(max(0, np.floor(y0 - m))),
            int(min(width, np.ceil(x1 + m))), int(min(height, np.ceil(y1 + m))))  # fmt: skip


def write_obj_yup(path: str | os.PathLike[str], mesh: ObjectMesh) -> None:
    """The object mesh as a plain OBJ (``v`` and ``f`` lines only) in the y-up frame InteractVLM assumes
    (``(x, -y, -z)`` of our canonical frame), vertex order kept; written atomically."""
    v = flip_yz(mesh.vertices)
    f = np.asarray(mesh.faces, np.int64) + 1
    lines = [f"# hoirecon object mesh '{mesh.category}', y up, metres, {len(v)} vertices"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v]
    lines += [f"f {a} {b} {c}" for a, b, c in f]
    fsutil.write_text(path, "\n".join(lines) + "\n")


@dataclass(frozen=True)
class PreparedSample:
    """Where the inputs of one image went: ``img_folder`` (the demo's ``--img_folder``), ``folder``
    (``img_folder/<name>``), ``image`` and ``mesh`` paths, the crop box ``(x0, y0, x1, y1)``."""

    name: str
    img_folder: Path
    folder: Path
    image: Path
    mesh: Path
    crop: tuple[int, int, int, int]


def prepare_inputs(img_folder: str | os.PathLike[str], image: ImageInput, detections: Detections, mesh: ObjectMesh,
                   label: str, margin: float = 0.1) -> PreparedSample:  # fmt: skip
    """Write one sample in the demo's folder layout under ``img_folder`` (see the module docstring)."""
    from PIL import Image

    name = sample_name(label, image.path)
    folder = Path(img_folder) / name
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / "sam_inp_objs"  # the demo's cached object renders: stale for a new mesh
    if stale.is_dir():
        shutil.rmtree(stale)
    crop = crop_box([detections.person.box, detections.object.box], image.width, image.height, margin)
    x0, y0, x1, y1 = crop
    img_path = folder / f"{name}.jpg"
    with fsutil.atomic_path(img_path) as tmp:
        Image.fromarray(np.ascontiguousarray(image.rgb[y0:y1, x0:x1, :3])).save(tmp, format="JPEG", quality=95)
    mesh_path = folder / "object_mesh.obj"
    write_obj_yup(mesh_path, mesh)
    return PreparedSample(name, Path(img_folder), folder, img_path, mesh_path, crop)


def check_repo(repo: str | os.PathLike[str]) -> Path:
    """The checkout as a Path; InputError when it or its demo script is missing, MissingModelError
    naming the missing weights or data folders."""
    r = Path(repo).expanduser()
    if not r.is_dir():
        raise InputError(f"--interactvlm-repo {repo}: no such folder (git clone {DEMO['source']})")
    script = r / DEMO["script"]
    if not script.is_file():
        raise InputError(f"--interactvlm-repo {repo}: {script} not found; not an InteractVLM checkout ({DEMO['source']})")
    needed = [r / DEMO["hcontact"]["model"], r / DEMO["oafford"]["model"], *(r / d for d in DEMO["data"])]
    missing = [str(p) for p in needed if not p.is_dir()]
    if missing:
        raise MissingModelError(f"InteractVLM weights/data missing: {', '.join(missing)}; register at "
                                f"{DEMO['registration']} and run 'bash fetch_data.sh' in {r}")  # fmt: skip
    return r


def demo_commands(img_folder: str | os.PathLike[str], python: str = "python") -> dict[str, list[str]]:
    """The two demo command lines (run with the checkout as working directory)."""
    folder = str(Path(img_folder).absolute())
    return {
        kind: [python, DEMO["script"], f"--version=./{DEMO[kind]['model']}", f"--img_folder={folder}",
               f"--contact_type={DEMO[kind]['contact_type']}", f"--input_mode={DEMO['input_mode']}"]
        for kind in ("hcontact", "oafford")
    }  # fmt: skip


def _python(python: str | None) -> str:
    exe = python or os.environ.get("HOIRECON_INTERACTVLM_PYTHON") or "python"
    found = shutil.which(exe)
    if not found:
        raise InputError(f"InteractVLM's Python '{exe}' not found; set HOIRECON_INTERACTVLM_PYTHON to its environment's python")
    return found


def run_demo(repo: str | os.PathLike[str], img_folder: str | os.PathLike[str], python: str | None = None,
             timeout: float | None = 3600.0) -> dict[str, list[str]]:  # fmt: skip
    """Run both demos on ``img_folder``; HoireconError with the tail of the output when one fails."""
    r = check_repo(repo)
    cmds = demo_commands(img_folder, _python(python))
    for kind, cmd in cmds.items():
        try:
            proc = subprocess.run(cmd, cwd=r, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise HoireconError(f"InteractVLM {kind} demo timed out after {timeout:.0f} s") from exc
        if proc.returncode != 0:
            tail = " | ".join((proc.stderr or proc.stdout or "").strip().splitlines()[-3:])
            raise HoireconError(f"InteractVLM {kind} demo failed (exit {proc.returncode}): {tail}")
    return cmds
