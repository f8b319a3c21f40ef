"""A synthetic, licence-free model file in the SMPL-X ``.npz`` format, for tests.

Real SMPL-X model files are licence-gated, so tests cannot ship them. This module builds a
stand-in with exactly the array names, shapes, joint order and kinematic tree of a real
``SMPLX_<GENDER>.npz`` so that the real ``smplx`` package loads it and runs forward
unchanged::

    from benchmarks.support.smplx_synthetic import write_synthetic_smplx
    write_synthetic_smplx(folder, genders=("NEUTRAL", "MALE", "FEMALE"))
    model = smplx.create(str(folder), model_type="smplx", gender="neutral", ext="npz",
                         use_pca=False, num_betas=10, num_expression_coeffs=10)

The body is a "capsule man" in SMPL-X's rest T-pose and coordinate frame: metres, y up, facing
+z, x towards the body's *left*; like real SMPL-X the origin is near the chest, not at the pelvis
(pelvis joint about (0, -0.35, 0.01) for the neutral body, soles at y = -1.30, head top at
y = +0.41, 1.70 m tall; the male is 5 % larger, the female 4.5 % smaller).

The mesh is built from swept tubes/ellipsoids (torso+neck, head, two eyeballs, two arms, two
palms, ten fingers, two legs, two feet): every piece is a closed, outward-facing genus-0 surface;
each finger is joined to its palm by a 6-triangle bridge, each leg's lower pole is the sole vertex
of its foot and both thighs share their (hidden, inside the pelvis) upper pole. This is what makes
the counts come out at exactly 10475 vertices and 20908 faces with every edge shared by exactly two
consistently oriented faces (``trimesh`` reports it watertight; three vertices are non-manifold
"kissing" points). The vertices that ``smplx``'s ``VertexJointSelector`` reads (nose, eyes, ears,
toes, heels, finger tips; :data:`SMPLX_VERTEX_IDS`) are placed at the right anatomical spots by
permuting the vertex order, and the 51 static (plus 79x17 dynamic contour) face landmarks lie on
the face.

Only numpy and scipy are needed to *write* the file; ``smplx`` is needed to load it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

__all__ = [
    "NUM_VERTICES",
    "NUM_FACES",
    "NUM_JOINTS",
    "SMPLX_JOINT_NAMES",
    "SMPLX_PARENTS",
    "SMPLX_VERTEX_IDS",
    "build_synthetic_smplx",
    "write_synthetic_smplx",
]

NUM_VERTICES = 10475
NUM_FACES = 20908
NUM_JOINTS = 55
NUM_SHAPE_COEFFS = 300
NUM_EXPRESSION_COEFFS = 100
NUM_POSE_BASIS = (NUM_JOINTS - 1) * 9  # 486
NUM_LANDMARKS = 51
NUM_DYNAMIC_BINS = 79
NUM_CONTOUR = 17

# smplx.joint_names.JOINT_NAMES[:55] (copied so that writing needs no smplx install; the tests
# check the copy). Note the hand order: index, middle, PINKY, ring, thumb.
SMPLX_JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "jaw", "left_eye_smplhf", "right_eye_smplhf",
    "left_index1", "left_index2", "left_index3", "left_middle1", "left_middle2", "left_middle3",
    "left_pinky1", "left_pinky2", "left_pinky3", "left_ring1", "left_ring2", "left_ring3",
    "left_thumb1", "left_thumb2", "left_thumb3",
    "right_index1", "right_index2", "right_index3", "right_middle1", "right_middle2",
    "right_middle3", "right_pinky1", "right_pinky2", "right_pinky3", "right_ring1", "right_ring2",
    "right_ring3", "right_thumb1", "right_thumb2", "right_thumb3",
)  # fmt: skip

# The real SMPL-X kinematic tree (kintree_table[0]; -1 for the root).
SMPLX_PARENTS = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
     20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
     21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53],
    dtype=np.int64,
)  # fmt: skip

# smplx.vertex_ids.vertex_ids["smplx"] (copied; the tests check the copy).
SMPLX_VERTEX_IDS: dict[str, int] = {
    "nose": 9120, "reye": 9929, "leye": 9448, "rear": 616, "lear": 6,
    "rthumb": 8079, "rindex": 7669, "rmiddle": 7794, "rring": 7905, "rpinky": 8022,
    "lthumb": 5361, "lindex": 4933, "lmiddle": 5058, "lring": 5169, "lpinky": 5286,
    "LBigToe": 5770, "LSmallToe": 5780, "LHeel": 8846,
    "RBigToe": 8463, "RSmallToe": 8474, "RHeel": 8635,
}  # fmt: skip

_JID = {name: i for i, name in enumerate(SMPLX_JOINT_NAMES)}
_GENDERS = ("NEUTRAL", "MALE", "FEMALE")
# (uniform scale about the origin, extra girth as a fraction of the distance to the piece's axis)
_GENDER_BUILD = {"NEUTRAL": (1.0, 0.0), "MALE": (1.05, 0.06), "FEMALE": (0.955, -0.04)}

_FINGERS = ("index", "middle", "pinky", "ring", "thumb")  # SMPL-X joint order within a hand
# Left-hand finger geometry relative to the left wrist: MCP offset, bone lengths (proximal,
# middle, distal-to-tip), splay (z slope), radii at MCP / PIP / DIP / tip.
_FINGER_GEOM = {
    "index": ((0.090, -0.004, 0.026), (0.040, 0.025, 0.022), 0.05, (0.0092, 0.0086, 0.0079, 0.0071)),
    "middle": ((0.094, -0.003, 0.005), (0.045, 0.028, 0.024), 0.0, (0.0096, 0.0090, 0.0082, 0.0073)),
    "ring": ((0.090, -0.004, -0.015), (0.042, 0.026, 0.022), -0.05, (0.0090, 0.0084, 0.0077, 0.0069)),
    "pinky": ((0.084, -0.006, -0.033), (0.034, 0.020, 0.020), -0.12, (0.0080, 0.0074, 0.0068, 0.0061)),
}  # fmt: skip
_THUMB = ((0.028, -0.012, 0.030), (0.055, -0.018, 0.050), (0.078, -0.020, 0.064), (0.098, -0.021, 0.074))
_THUMB_RADII = (0.0112, 0.0104, 0.0094, 0.0084)
_PALM_FRONT = 0.075  # x of the (flat-ish) knuckle end of the palm, relative to the wrist

# Left / centre joints of the neutral body (metres); right joints are mirrored.
_BODY_JOINTS = {
    "pelvis": (0.0, -0.35, 0.01),
    "left_hip": (0.072, -0.445, -0.01),
    "spine1": (0.0, -0.24, -0.015),
    "left_knee": (0.10, -0.83, 0.0),
    "spine2": (0.0, -0.105, 0.005),
    "left_ankle": (0.088, -1.225, -0.04),
    "spine3": (0.0, -0.05, 0.02),
    "left_foot": (0.108, -1.277, 0.09),
    "neck": (0.0, 0.15, -0.025),
    "left_collar": (0.07, 0.115, -0.01),
    "head": (0.0, 0.235, 0.0),
    "left_shoulder": (0.175, 0.095, -0.02),
    "left_elbow": (0.43, 0.085, -0.035),
    "left_wrist": (0.68, 0.085, -0.03),
    "jaw": (0.0, 0.262, 0.035),
    "left_eye_smplhf": (0.032, 0.31, 0.102),
}
_FLOOR_Y = -1.30
_HEAD_CENTER = np.array([0.0, 0.30, 0.02])
_HEAD_AXES = np.array([0.078, 0.113, 0.10])  # x, y, z semi-axes
_EYE_RADIUS = 0.012


def write_synthetic_smplx(folder: Path, genders=("NEUTRAL",), seed: int = 0) -> list[Path]:
    """Write ``folder/smplx/SMPLX_<GENDER>.npz`` for each gender and return the paths.

    ``genders`` takes any of "NEUTRAL", "MALE", "FEMALE" (any case). Load with
    ``smplx.create(str(folder), model_type="smplx", gender=..., ext="npz")`` -- ``create`` appends
    ``smplx/`` itself -- or ``smplx.SMPLX(str(folder / "smplx"), gender=...)``, or pass the file
    path to ``smplx.create``. Deterministic for a given ``seed``.
    """
    out_dir = Path(folder) / "smplx"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for gender in genders:
        gender = str(gender).upper()
        arrays = build_synthetic_smplx(gender, seed=seed)
        path = out_dir / f"SMPLX_{gender}.npz"
        _save_npz(path, arrays)
        paths.append(path)
    return paths


def build_synthetic_smplx(gender: str = "NEUTRAL", seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays of a synthetic ``SMPLX_<GENDER>.npz`` (see the module docstring)."""
    gender = str(gender).upper()
    if gender not in _GENDER_BUILD:
        raise ValueError(f"gender must be one of {_GENDERS}, not {gender!r}")
    rng = np.random.default_rng([int(seed), _GENDERS.index(gender)])
    scale, girth = _GENDER_BUILD[gender]

    joints_design = _design_joints()
    mesh = _build_mesh(joints_design)
    v = scale * (mesh.verts + girth * (mesh.verts - mesh.axis))
    joints_design = scale * joints_design
    j_regressor = _joint_regressor(v, joints_design)

    head = mesh.part == _PART["head"]
    shapedirs = np.concatenate(
        [_shape_dirs(v, mesh.verts - mesh.axis, rng), _expression_dirs(v, head, rng)], axis=2
    )
    posedirs = _pose_dirs(mesh.weights, v - scale * mesh.axis, rng)
    lmk_faces_idx, lmk_bary = _static_landmarks(v, mesh.faces, head)
    dyn_faces_idx, dyn_bary = _dynamic_landmarks(v, mesh.faces, head)

    hands_components = []
    for _ in range(2):
        q, r = np.linalg.qr(np.eye(45) + 0.1 * rng.standard_normal((45, 45)))
        hands_components.append(q * np.sign(np.diag(r))[None, :])  # orthonormal, near identity

    kintree = np.stack([SMPLX_PARENTS, np.arange(NUM_JOINTS)]).astype(np.int64)
    kintree[0, 0] = 4294967295  # as in the real files (uint32 -1); smplx resets parents[0] = -1

    extent = v.max(0) - v.min(0)
    vt = np.stack(
        [0.5 + np.arctan2(v[:, 0], v[:, 2]) / (2 * np.pi), (v[:, 1] - v[:, 1].min()) / extent[1]],
        axis=1,
    )
    return {
        "v_template": v.astype(np.float64),
        "f": mesh.faces.astype(np.int64),
        "J_regressor": j_regressor.astype(np.float64),
        "weights": mesh.weights.astype(np.float64),
        "kintree_table": kintree,
        "shapedirs": shapedirs.astype(np.float32),
        "posedirs": posedirs.astype(np.float32),
        "hands_componentsl": hands_components[0],
        "hands_componentsr": hands_components[1],
        "hands_meanl": np.zeros(45),
        "hands_meanr": np.zeros(45),
        "lmk_faces_idx": lmk_faces_idx.astype(np.int64),
        "lmk_bary_coords": lmk_bary,
        "dynamic_lmk_faces_idx": dyn_faces_idx.astype(np.int64),
        "dynamic_lmk_bary_coords": dyn_bary,
        "vt": vt,
        "ft": mesh.faces.astype(np.int64),
    }


# ----------------------------------------------------------------------------------- skeleton


def _mirror(p) -> np.ndarray:
    p = np.array(p, dtype=np.float64)
    p[..., 0] *= -1
    return p


def _finger_chain(finger: str, side: str) -> np.ndarray:
    """(5, 3): joints 1, 2, 3 and the tip of a finger, plus (row 0) its palm-side start."""
    wrist = np.array(_BODY_JOINTS["left_wrist"])
    if finger == "thumb":
        pts = wrist + np.array(_THUMB)
        start = pts[0]
        chain = np.vstack([start, pts])
    else:
        mcp, lengths, splay, _ = _FINGER_GEOM[finger]
        d = np.array([1.0, -0.03, splay])
        d /= np.linalg.norm(d)
        j1 = wrist + np.array(mcp)
        j2 = j1 + lengths[0] * d
        j3 = j2 + lengths[1] * d
        tip = j3 + lengths[2] * d
        chain = np.vstack([j1, j1, j2, j3, tip])
    return chain if side == "left" else _mirror(chain)


def _design_joints() -> np.ndarray:
    joints = np.zeros((NUM_JOINTS, 3))
    for name, p in _BODY_JOINTS.items():
        joints[_JID[name]] = p
        if name.startswith("left_"):
            joints[_JID["right_" + name[5:]]] = _mirror(p)
    for side in ("left", "right"):
        for finger in _FINGERS:
            chain = _finger_chain(finger, side)
            for k in range(3):
                joints[_JID[f"{side}_{finger}{k + 1}"]] = chain[k + 1]
    return joints


# --------------------------------------------------------------------------------- mesh pieces


def _smoothstep(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _stitch(i0: int, n0: int, i1: int, n1: int) -> list[tuple[int, int, int]]:
    """Triangles between ring i0 (n0 vertices) and the next ring i1 (n1), outward-facing."""
    tris = []
    p = q = 0
    while p < n0 or q < n1:
        if q >= n1 or (p < n0 and (p + 1) / n0 <= (q + 1) / n1):
            tris.append((i0 + p % n0, i0 + (p + 1) % n0, i1 + q % n1))
            p += 1
        else:
            tris.append((i0 + p % n0, i1 + (q + 1) % n1, i1 + q % n1))
            q += 1
    return tris


def _tube(centers, ra, rb, counts, up, start_pole=None, end_pole=None, caps=(4, 4), cap_len=(None, None)):
    """A closed tube swept along ``centers`` with elliptical rings (semi-axes ``ra`` along the
    transported ``up`` direction, ``rb`` along tangent x up), capped by rings that close onto a
    pole at each end (given, or a hemisphere-ish cap). Returns (verts, faces, ring_centres)."""
    centers = np.asarray(centers, dtype=np.float64)
    n_body = len(centers)
    ra = np.broadcast_to(np.asarray(ra, dtype=np.float64), (n_body,))
    rb = np.broadcast_to(np.asarray(rb, dtype=np.float64), (n_body,))
    counts = np.broadcast_to(np.asarray(counts), (n_body,)).astype(int)
    tangent = np.gradient(centers, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    us = np.zeros_like(centers)
    u = np.asarray(up, dtype=np.float64)
    for i in range(n_body):
        u = u - np.dot(u, tangent[i]) * tangent[i]
        u /= np.linalg.norm(u)
        us[i] = u
    ws = np.cross(tangent, us)

    rings = [(centers[i], ra[i], rb[i], us[i], ws[i], counts[i]) for i in range(n_body)]
    poles = []
    for end in (0, 1):
        i = 0 if end == 0 else n_body - 1
        sign = -1.0 if end == 0 else 1.0
        pole = start_pole if end == 0 else end_pole
        length = cap_len[end] if cap_len[end] is not None else min(ra[i], rb[i])
        pole = centers[i] + sign * length * tangent[i] if pole is None else np.asarray(pole, float)
        cap = []
        for k in range(1, caps[end] + 1):
            phi = k / (caps[end] + 1) * np.pi / 2
            c = centers[i] + (pole - centers[i]) * np.sin(phi)
            cap.append((c, ra[i] * np.cos(phi), rb[i] * np.cos(phi), us[i], ws[i], counts[i]))
        rings = (cap[::-1] + rings) if end == 0 else (rings + cap)
        poles.append(pole)

    verts = [poles[0]]
    axis = [poles[0]]
    starts = []
    for c, a, b, uu, ww, n in rings:
        theta = 2 * np.pi * np.arange(n) / n
        starts.append(len(verts))
        verts.extend(c + a * np.cos(theta)[:, None] * uu + b * np.sin(theta)[:, None] * ww)
        axis.extend([c] * n)
    verts.append(poles[1])
    axis.append(poles[1])
    last = len(verts) - 1

    faces = []
    n0 = rings[0][5]
    faces += [(0, starts[0] + (k + 1) % n0, starts[0] + k) for k in range(n0)]
    for r in range(len(rings) - 1):
        faces += _stitch(starts[r], rings[r][5], starts[r + 1], rings[r + 1][5])
    nl = rings[-1][5]
    faces += [(last, starts[-1] + k, starts[-1] + (k + 1) % nl) for k in range(nl)]
    return np.array(verts), np.array(faces, dtype=np.int64), np.array(axis)


def _resample(path: np.ndarray, values: np.ndarray, n: int):
    """n points evenly spaced in arc length along a polyline, with linearly interpolated values."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    q = np.linspace(0.0, s[-1], n)
    pts = np.stack([np.interp(q, s, path[:, k]) for k in range(3)], axis=1)
    vals = np.stack([np.interp(q, s, values[:, k]) for k in range(values.shape[1])], axis=1)
    return pts, vals


def _chain_weights(points, chain_ids, chain_pts, end_pt, hmax) -> np.ndarray:
    """Skinning weights (n, 55) along a chain of bones: each point is projected onto the polyline
    chain_pts[0] -> ... -> end_pt; bone k (driven by chain_ids[k]) owns the stretch between joint
    k and k+1, blended smoothly (smoothstep, half-width <= hmax) across each inner joint."""
    pts = np.vstack([chain_pts, end_pt])
    d = np.diff(pts, axis=0)
    lengths = np.linalg.norm(d, axis=1)
    s0 = np.concatenate([[0.0], np.cumsum(lengths)])
    n_seg = len(d)
    best = np.full(len(points), np.inf)
    arc = np.zeros(len(points))
    for k in range(n_seg):
        t = (points - pts[k]) @ d[k] / lengths[k] ** 2
        lo = -np.inf if k == 0 else 0.0
        hi = np.inf if k == n_seg - 1 else 1.0
        t = np.clip(t, lo, hi)
        dist = np.linalg.norm(points - (pts[k] + t[:, None] * d[k]), axis=1)
        better = dist < best - 1e-12
        best = np.where(better, dist, best)
        arc = np.where(better, s0[k] + t * lengths[k], arc)
    n_bones = len(chain_ids)
    sig = []
    for k in range(1, n_bones):
        h = min(hmax, 0.35 * min(lengths[k - 1], lengths[k]))
        sig.append(_smoothstep((arc - s0[k] + h) / (2 * h)))
    w = np.zeros((len(points), NUM_JOINTS))
    ones = np.ones(len(points))
    zeros = np.zeros(len(points))
    for k, jid in enumerate(chain_ids):
        upper = ones if k == 0 else sig[k - 1]
        lower = sig[k] if k < n_bones - 1 else zeros
        w[:, jid] += upper - lower
    return w


def _blend_into(w: np.ndarray, amount: np.ndarray, jid: int) -> np.ndarray:
    w = w * (1.0 - amount)[:, None]
    w[:, jid] += amount
    return w


@dataclass
class _Piece:
    name: str
    part: int
    verts: np.ndarray
    faces: np.ndarray
    axis: np.ndarray
    weights: np.ndarray


_PART = {"torso": 0, "head": 1, "eye": 2, "arm": 3, "hand": 4, "leg": 5, "foot": 6}


def _torso(J, n_total: int, n_rings: int = 62) -> _Piece:
    # y, semi-width (x), semi-depth (z), centre z
    prof = np.array([
        [-0.50, 0.120, 0.080, 0.000],
        [-0.46, 0.158, 0.105, 0.000],
        [-0.40, 0.172, 0.118, 0.005],
        [-0.33, 0.170, 0.115, 0.010],
        [-0.22, 0.150, 0.102, 0.012],
        [-0.12, 0.140, 0.100, 0.015],
        [0.00, 0.155, 0.115, 0.020],
        [0.07, 0.165, 0.108, 0.010],
        [0.11, 0.160, 0.095, 0.000],
        [0.14, 0.120, 0.080, -0.010],
        [0.165, 0.065, 0.058, -0.015],
        [0.19, 0.054, 0.052, -0.012],
        [0.27, 0.050, 0.050, -0.005],
    ])  # fmt: skip
    caps = (3, 2)
    n_body = n_rings - sum(caps)
    y = np.linspace(prof[0, 0], prof[-1, 0], n_body)
    a = np.interp(y, prof[:, 0], prof[:, 1])
    b = np.interp(y, prof[:, 0], prof[:, 2])
    cz = np.interp(y, prof[:, 0], prof[:, 3])
    centers = np.stack([np.zeros_like(y), y, cz], axis=1)
    # ring vertex counts as even as possible; the caps copy the end rings' counts; with the two
    # poles they sum to n_total
    base, remaining = divmod(n_total - 2, n_rings)
    counts = np.full(n_body, base)
    i = 0
    while remaining > 0:
        counts[1 + i % (n_body - 2)] += 1  # never the end rings
        remaining -= 1
        i += 1
    verts, faces, axis = _tube(
        centers, a, b, counts, up=(1.0, 0.0, 0.0),
        start_pole=(0.0, -0.53, 0.0), end_pole=(0.0, 0.29, -0.005), caps=caps,
    )  # fmt: skip
    chain = ["pelvis", "spine1", "spine2", "spine3", "neck", "head"]
    w = _chain_weights(
        verts, [_JID[n] for n in chain], J[[_JID[n] for n in chain]], J[_JID["head"]] + (0, 0.1, 0), 0.05
    )
    x, yy = verts[:, 0], verts[:, 1]
    for side, sx in (("left", 1.0), ("right", -1.0)):
        collar = _smoothstep((sx * x - 0.07) / 0.09) * _smoothstep((yy + 0.02) / 0.10)
        w = _blend_into(w, collar, _JID[f"{side}_collar"])
        hip = 0.5 * _smoothstep((-0.40 - yy) / 0.08) * _smoothstep((sx * x - 0.03) / 0.06)
        w = _blend_into(w, hip, _JID[f"{side}_hip"])
    return _Piece("torso", _PART["torso"], verts, faces, axis, w)


def _head(J, n_rings=46, n_seg=40) -> _Piece:
    phi = np.pi * np.arange(1, n_rings + 1) / (n_rings + 1)  # from the bottom pole upwards
    A, B, C = _HEAD_AXES
    c0 = _HEAD_CENTER
    centers = np.stack([np.full(n_rings, c0[0]), c0[1] - B * np.cos(phi), np.full(n_rings, c0[2])], 1)
    verts, faces, axis = _tube(
        centers, A * np.sin(phi), C * np.sin(phi), n_seg, up=(1.0, 0.0, 0.0),
        start_pole=c0 - (0, B, 0), end_pole=c0 + (0, B, 0), caps=(0, 0),
    )  # fmt: skip
    # facial relief: nose, ears, chin, brow
    x, y, z = verts.T
    front = _smoothstep((z - c0[2]) / 0.04)
    nose = np.exp(-0.5 * ((x / 0.011) ** 2 + ((y - 0.288) / 0.02) ** 2)) * front
    verts[:, 2] += 0.024 * nose
    chin = np.exp(-0.5 * ((x / 0.028) ** 2 + ((y - 0.205) / 0.016) ** 2)) * front
    verts[:, 2] += 0.012 * chin
    brow = np.exp(-0.5 * ((x / 0.05) ** 2 + ((y - 0.333) / 0.01) ** 2)) * front
    verts[:, 2] += 0.006 * brow
    for sx in (1.0, -1.0):
        ear = np.exp(-0.5 * (((y - 0.300) / 0.016) ** 2 + ((z - 0.0) / 0.011) ** 2)) * (sx * x > 0)
        verts[:, 0] += sx * 0.012 * ear
    chain = ["neck", "head"]
    w = _chain_weights(
        verts, [_JID[n] for n in chain], J[[_JID[n] for n in chain]], J[_JID["head"]] + (0, 0.2, 0), 0.03
    )
    jaw = _smoothstep((0.27 - verts[:, 1]) / 0.03) * _smoothstep((verts[:, 2] - 0.03) / 0.04)
    w = _blend_into(w, jaw, _JID["jaw"])
    return _Piece("head", _PART["head"], verts, faces, axis, w)


def _eye(J, side: str, n_rings=10, n_seg=14) -> _Piece:
    jid = _JID[f"{side}_eye_smplhf"]
    c = J[jid]
    phi = np.pi * np.arange(1, n_rings + 1) / (n_rings + 1)  # back (-z) to front (+z)
    r = _EYE_RADIUS
    centers = c + np.stack([np.zeros(n_rings), np.zeros(n_rings), -r * np.cos(phi)], 1)
    verts, faces, axis = _tube(
        centers, r * np.sin(phi), r * np.sin(phi), n_seg, up=(0.0, 1.0, 0.0),
        start_pole=c - (0, 0, r), end_pole=c + (0, 0, r), caps=(0, 0),
    )  # fmt: skip
    w = np.zeros((len(verts), NUM_JOINTS))
    w[:, jid] = 1.0
    return _Piece(f"{side}_eye", _PART["eye"], verts, faces, axis, w)


def _arm(J, side: str, n_rings=36, n_seg=16) -> _Piece:
    sx = 1.0 if side == "left" else -1.0
    sh, el, wr = (J[_JID[f"{side}_{n}"]] for n in ("shoulder", "elbow", "wrist"))
    start = np.array([sx * 0.12, sh[1] + 0.005, sh[2]])
    end = wr + (sx * 0.006, 0, 0)
    path = np.vstack([start, sh, (sh + el) / 2, el, (el + wr) / 2, end])
    radii = np.array([[0.052, 0.055], [0.050, 0.052], [0.044, 0.046], [0.037, 0.040],
                      [0.036, 0.042], [0.024, 0.030]])  # fmt: skip
    centers, r = _resample(path, radii, n_rings - 8)
    verts, faces, axis = _tube(centers, r[:, 0], r[:, 1], n_seg, up=(0.0, 1.0, 0.0), caps=(4, 4))
    chain = ["collar", "shoulder", "elbow", "wrist"]
    ids = [_JID[f"{side}_{n}"] for n in chain]
    w = _chain_weights(verts, ids, J[ids], wr + (sx * 0.05, 0, 0), 0.05)
    return _Piece(f"{side}_arm", _PART["arm"], verts, faces, axis, w)


def _palm(J, side: str, n_rings=14, n_seg=16) -> _Piece:
    sx = 1.0 if side == "left" else -1.0
    wr = J[_JID[f"{side}_wrist"]]
    xs = np.linspace(-0.004, _PALM_FRONT - 0.005, n_rings - 5)
    centers = wr + np.stack([sx * xs, np.full_like(xs, -0.004), np.full_like(xs, -0.003)], 1)
    ra = np.interp(xs, [-0.004, 0.03, _PALM_FRONT], [0.014, 0.016, 0.013])  # thickness (y)
    rb = np.interp(xs, [-0.004, 0.03, _PALM_FRONT], [0.032, 0.040, 0.040])  # width (z)
    verts, faces, axis = _tube(
        centers, ra, rb, n_seg, up=(0.0, 1.0, 0.0), caps=(2, 3), cap_len=(0.008, 0.005)
    )
    ids = [_JID[f"{side}_elbow"], _JID[f"{side}_wrist"]]
    w = _chain_weights(verts, ids, J[ids], wr + (sx * 0.12, 0, 0), 0.04)
    return _Piece(f"{side}_palm", _PART["hand"], verts, faces, axis, w)


def _finger(J, side: str, finger: str, n_rings=16, n_seg=8) -> _Piece:
    sx = 1.0 if side == "left" else -1.0
    wr = J[_JID[f"{side}_wrist"]]
    chain = _finger_chain(finger, side)  # start, j1, j2, j3, tip
    radii = np.array(_THUMB_RADII if finger == "thumb" else _FINGER_GEOM[finger][3])
    tip = chain[4]
    if finger == "thumb":
        d = chain[2] - chain[1]
        d /= np.linalg.norm(d)
        # starts just outside the palm's thumb-side edge, 62 % of the way from thumb1 to thumb2
        pole = chain[1] + 0.62 * (chain[2] - chain[1])
        base = pole + 0.006 * d
        path = np.vstack([base, chain[2], chain[3], tip - radii[3] * (tip - chain[3]) / np.linalg.norm(tip - chain[3])])
        rr = np.array([radii[0], radii[1], radii[2], radii[3]])
    else:
        d = chain[2] - chain[1]
        d /= np.linalg.norm(d)
        pole = np.array([wr[0] + sx * (_PALM_FRONT + 0.0008), chain[1][1], chain[1][2]])
        base = pole + 0.005 * sx * np.array([1.0, 0, 0])
        dt = (tip - chain[3]) / np.linalg.norm(tip - chain[3])
        path = np.vstack([base, chain[1], chain[2], chain[3], tip - radii[3] * dt])
        rr = np.array([radii[0], radii[0], radii[1], radii[2], radii[3]])
    centers, r = _resample(path, np.stack([rr, rr], 1), n_rings - 6)
    verts, faces, axis = _tube(
        centers, r[:, 0] * 0.92, r[:, 1], n_seg, up=(0.0, 1.0, 0.0),
        start_pole=pole, end_pole=tip, caps=(3, 3),
    )  # fmt: skip
    ids = [_JID[f"{side}_wrist"]] + [_JID[f"{side}_{finger}{k}"] for k in (1, 2, 3)]
    w = _chain_weights(verts, ids, np.vstack([wr, chain[1:4]]), tip, 0.02)
    return _Piece(f"{side}_{finger}", _PART["hand"], verts, faces, axis, w)


def _foot(J, side: str, n_rings=24, n_seg=14) -> _Piece:
    sx = 1.0 if side == "left" else -1.0
    ank, ball = J[_JID[f"{side}_ankle"]], J[_JID[f"{side}_foot"]]
    # z, semi-width, semi-height (sole flat at the floor), x offset from the ankle (outwards)
    prof = np.array([
        [-0.095, 0.028, 0.030, 0.000],
        [-0.070, 0.038, 0.048, 0.000],
        [-0.040, 0.043, 0.058, 0.002],
        [0.020, 0.044, 0.045, 0.008],
        [0.090, 0.050, 0.026, 0.016],
        [0.140, 0.046, 0.020, 0.020],
        [0.165, 0.038, 0.016, 0.020],
    ])  # fmt: skip
    z = np.linspace(prof[0, 0], prof[-1, 0], n_rings - 6)
    a = np.interp(z, prof[:, 0], prof[:, 1])
    b = np.interp(z, prof[:, 0], prof[:, 2])
    dx = np.interp(z, prof[:, 0], prof[:, 3])
    centers = np.stack([ank[0] + sx * dx, _FLOOR_Y + b, ank[2] + z + 0.04], 1)
    verts, faces, axis = _tube(
        centers, a, b, n_seg, up=(1.0, 0.0, 0.0), caps=(3, 3), cap_len=(0.022, 0.016)
    )
    ids = [_JID[f"{side}_ankle"], _JID[f"{side}_foot"]]
    w = _chain_weights(verts, ids, np.vstack([ank, ball]), ball + (0, 0, 0.1), 0.03)
    return _Piece(f"{side}_foot", _PART["foot"], verts, faces, axis, w)


def _leg(J, side: str, sole_pole: np.ndarray, n_rings=44, n_seg=16) -> _Piece:
    sx = 1.0 if side == "left" else -1.0
    hip, knee, ank = (J[_JID[f"{side}_{n}"]] for n in ("hip", "knee", "ankle"))
    start = np.array([sx * 0.078, -0.385, -0.01])
    path = np.vstack([start, hip, hip + 0.45 * (knee - hip), knee, knee + 0.35 * (ank - knee), ank + (0, 0.025, 0)])
    radii = np.array([[0.086, 0.088], [0.089, 0.091], [0.072, 0.076], [0.052, 0.054],
                      [0.054, 0.058], [0.031, 0.033]])  # fmt: skip
    centers, r = _resample(path, radii, n_rings - 8)
    verts, faces, axis = _tube(
        centers, r[:, 0], r[:, 1], n_seg, up=(1.0, 0.0, 0.0),
        start_pole=(0.0, -0.345, -0.01), end_pole=sole_pole, caps=(4, 4),
    )  # fmt: skip
    ids = [_JID["pelvis"]] + [_JID[f"{side}_{n}"] for n in ("hip", "knee", "ankle")]
    w = _chain_weights(verts, ids, J[ids], ank + (0, -0.1, 0), 0.06)
    return _Piece(f"{side}_leg", _PART["leg"], verts, faces, axis, w)


@dataclass
class _Mesh:
    verts: np.ndarray
    faces: np.ndarray
    axis: np.ndarray
    weights: np.ndarray
    part: np.ndarray


def _bridge(a: np.ndarray, b: np.ndarray, verts: np.ndarray) -> np.ndarray:
    """The 6 triangles of a tube joining the holes left by removing faces a and b (each
    outward-facing on its closed piece); keeps the orientation consistent."""
    costs = [sum(np.linalg.norm(verts[a[i]] - verts[b[(c - i) % 3]]) for i in range(3)) for c in range(3)]
    c = int(np.argmin(costs))
    tris = []
    for i in range(3):
        a0, a1 = a[i], a[(i + 1) % 3]
        b0, b1 = b[(c - i - 1) % 3], b[(c - i) % 3]
        tris += [(a0, a1, b0), (a0, b0, b1)]
    return np.array(tris, dtype=np.int64)


def _swap_sides(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name


_MIRROR_JOINTS = np.array([_JID[_swap_sides(n)] for n in SMPLX_JOINT_NAMES])


def _mirror_piece(piece: _Piece) -> _Piece:
    """The right-side twin of a left-side piece: x negated, winding reversed, same local order."""
    return _Piece(
        _swap_sides(piece.name), piece.part, _mirror(piece.verts), piece.faces[:, ::-1].copy(),
        _mirror(piece.axis), piece.weights[:, _MIRROR_JOINTS],
    )  # fmt: skip


def _build_mesh(J: np.ndarray) -> _Mesh:
    # left-side pieces are built, right-side ones mirrored from them (J is left/right symmetric)
    left_eye = _eye(J, "left")
    left_arm = _arm(J, "left")
    left_hand = [_palm(J, "left")] + [_finger(J, "left", f) for f in _FINGERS]
    left_foot = _foot(J, "left")
    ank = J[_JID["left_ankle"]]
    sole = int(np.argmin(np.linalg.norm(left_foot.verts - (ank[0], _FLOOR_Y, ank[2]), axis=1)))
    left_leg = _leg(J, "left", left_foot.verts[sole])
    lefts = [left_eye, left_arm, *left_hand, left_foot, left_leg]
    pieces = [_head(J)] + lefts + [_mirror_piece(p) for p in lefts]
    feet = [(left_foot, sole), (_mirror_piece(left_foot), sole)]
    n_other = sum(len(p.verts) for p in pieces)
    # the merges below remove 3 vertices (two leg-sole kisses and the thigh-thigh kiss)
    torso = _torso(J, NUM_VERTICES + 3 - n_other)
    pieces = [torso] + pieces

    offsets = np.cumsum([0] + [len(p.verts) for p in pieces])
    off = {p.name: o for p, o in zip(pieces, offsets)}
    verts = np.vstack([p.verts for p in pieces])
    axis = np.vstack([p.axis for p in pieces])
    weights = np.vstack([p.weights for p in pieces])
    part = np.concatenate([np.full(len(p.verts), p.part) for p in pieces])
    faces = np.vstack([p.faces + o for p, o in zip(pieces, offsets)])
    owner = np.concatenate([np.full(len(p.faces), k) for k, p in enumerate(pieces)])
    index = {p.name: k for k, p in enumerate(pieces)}

    # bridges: each finger's start-cap face to the nearest palm face
    bridges = []
    for side in ("left", "right"):
        palm_faces = np.flatnonzero(owner == index[f"{side}_palm"])
        palm_cent = verts[faces[palm_faces]].mean(1)
        for finger in _FINGERS:
            o = off[f"{side}_{finger}"]
            cap = np.flatnonzero((owner == index[f"{side}_{finger}"]) & (faces == o).any(1))
            target = verts[faces[palm_faces]].mean(1).mean(0)
            cc = verts[faces[cap]].mean(1)
            fa = cap[np.argmin(np.linalg.norm(cc - target, axis=1))]
            fb = palm_faces[np.argmin(np.linalg.norm(palm_cent - verts[faces[fa]].mean(0), axis=1))]
            bridges.append((fa, fb))
    used = [f for pair in bridges for f in pair]
    assert len(set(used)) == len(used)
    keep = np.ones(len(faces), bool)
    keep[used] = False
    faces = np.vstack([faces[keep]] + [_bridge(faces[fa], faces[fb], verts) for fa, fb in bridges])

    # kisses: (drop, keep) vertex pairs at the same position
    kisses = [(off["right_leg"], off["left_leg"])]  # both thighs' upper poles (hidden in the pelvis)
    for side, (foot, sole) in zip(("left", "right"), feet):
        leg = pieces[index[f"{side}_leg"]]
        kisses.append((off[f"{side}_leg"] + len(leg.verts) - 1, off[f"{side}_foot"] + sole))
    remap = np.arange(len(verts))
    for drop, keep_v in kisses:
        assert np.allclose(verts[drop], verts[keep_v], atol=1e-9)
        remap[drop] = keep_v
    faces = remap[faces]
    alive = np.ones(len(verts), bool)
    alive[[d for d, _ in kisses]] = False
    new_index = np.cumsum(alive) - 1
    faces = new_index[faces]
    verts, axis, weights, part = verts[alive], axis[alive], weights[alive], part[alive]
    # old (pre-kiss) index -> new index, for picking keypoints below
    old_to_new = new_index

    assert len(verts) == NUM_VERTICES, len(verts)
    assert len(faces) == NUM_FACES, len(faces)

    # keypoint vertices: move the right vertex to each index VertexJointSelector reads
    hv = off["head"] + np.arange(len(pieces[index["head"]].verts))
    chosen = {}
    hpos = pieces[index["head"]].verts
    near_nose = np.abs(hpos[:, 0]) < 0.004
    chosen["nose"] = hv[np.flatnonzero(near_nose)[np.argmax(hpos[near_nose, 2])]]
    ear_band = np.abs(hpos[:, 1] - 0.30) < 0.01
    chosen["lear"] = hv[np.flatnonzero(ear_band)[np.argmax(hpos[ear_band, 0])]]
    chosen["rear"] = hv[np.flatnonzero(ear_band)[np.argmin(hpos[ear_band, 0])]]
    foot_targets = {  # on the left foot; the right foot is its mirror image
        "BigToe": (ank[0], _FLOOR_Y + 0.01, 0.21),
        "SmallToe": (ank[0] + 0.06, _FLOOR_Y + 0.008, 0.14),
        "Heel": (ank[0], _FLOOR_Y + 0.01, -0.14),
    }
    foot_pick = {k: int(np.argmin(np.linalg.norm(left_foot.verts - t, axis=1))) for k, t in foot_targets.items()}
    for side, s in (("left", "l"), ("right", "r")):
        chosen[f"{s}eye"] = off[f"{side}_eye"] + len(left_eye.verts) - 1  # front pole (pupil)
        for finger in _FINGERS:
            n_finger = len(pieces[index[f"{side}_{finger}"]].verts)
            chosen[f"{s}{finger}"] = off[f"{side}_{finger}"] + n_finger - 1  # tip pole
        for key, local in foot_pick.items():
            chosen[("L" if side == "left" else "R") + key] = off[f"{side}_foot"] + local
    chosen_new = {k: int(old_to_new[v]) for k, v in chosen.items()}
    assert len(set(chosen_new.values())) == len(chosen_new)

    order = np.full(NUM_VERTICES, -1)
    required = np.array([SMPLX_VERTEX_IDS[k] for k in chosen_new])
    picked = np.array([chosen_new[k] for k in chosen_new])
    order[required] = picked
    rest = np.setdiff1d(np.arange(NUM_VERTICES), picked)
    order[order < 0] = rest
    inverse = np.empty_like(order)
    inverse[order] = np.arange(NUM_VERTICES)
    faces = inverse[faces]
    verts, axis, weights, part = verts[order], axis[order], weights[order], part[order]
    weights = np.clip(weights, 0.0, None)
    weights /= weights.sum(1, keepdims=True)
    return _Mesh(verts, faces, axis, weights, part)


# --------------------------------------------------------------------------- regressor & bases


def _joint_regressor(verts: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """Rows of non-negative weights summing to 1 over vertices near each joint, reproducing it."""
    reg = np.zeros((len(joints), len(verts)))
    for j, p in enumerate(joints):
        dist = np.linalg.norm(verts - p, axis=1)
        for k in (48, 96, 192, 384, 768):
            idx = np.argsort(dist)[:k]
            A = np.vstack([verts[idx].T, np.ones(k)])
            b = np.concatenate([p, [1.0]])
            scale = np.array([1.0, 1.0, 1.0, 10.0])[:, None]
            w_nn, res = nnls(A * scale, b * scale[:, 0])
            if res < 1e-7:
                break
        # smoother weights: closest to gaussian weights w0 (least squares) subject to w >= 0 and
        # (softly, then exactly on the support) A w = b
        sigma = max(float(np.median(dist[idx])), 1e-3)
        w0 = np.exp(-0.5 * (dist[idx] / sigma) ** 2)
        w0 /= w0.sum()
        big = 1e3
        w_soft, _ = nnls(np.vstack([big * A, np.eye(k)]), np.concatenate([big * b, w0]))
        sup = np.flatnonzero(w_soft > 1e-9)
        As = A[:, sup]
        w_fix = w_soft[sup] + As.T @ np.linalg.lstsq(As @ As.T, b - As @ w_soft[sup], rcond=None)[0]
        if (w_fix >= 0).all() and np.abs(As @ w_fix - b).max() < 1e-9:
            reg[j, idx[sup]] = w_fix
        else:
            reg[j, idx] = w_nn / w_nn.sum()
    return reg


def _rbf_fields(verts, n_fields, n_centres, sigma_range, rng, candidates=None):
    """n_fields smooth vector fields (V, 3, n_fields): sums of gaussian blobs, unit max norm."""
    cand = np.arange(len(verts)) if candidates is None else np.flatnonzero(candidates)
    out = np.zeros((len(verts), 3, n_fields))
    for k in range(n_fields):
        centres = verts[rng.choice(cand, n_centres)]
        sig = rng.uniform(*sigma_range, size=n_centres)
        vecs = rng.standard_normal((n_centres, 3))
        d2 = ((verts[:, None, :] - centres[None]) ** 2).sum(-1)
        field = np.exp(-0.5 * d2 / sig**2) @ vecs
        out[:, :, k] = field / np.abs(field).max()
    return out


def _shape_dirs(verts, radial, rng) -> np.ndarray:
    dirs = np.zeros((len(verts), 3, NUM_SHAPE_COEFFS))
    dirs[:, :, 0] = 0.05 * verts  # +5 % size (height) per unit
    dirs[:, :, 1] = 0.08 * radial  # +8 % girth per unit
    amp = 0.012 / (1.0 + np.arange(NUM_SHAPE_COEFFS - 2)) ** 0.6
    dirs[:, :, 2:] = _rbf_fields(verts, NUM_SHAPE_COEFFS - 2, 4, (0.06, 0.3), rng) * amp
    return dirs


def _expression_dirs(verts, head, rng) -> np.ndarray:
    c = _HEAD_CENTER
    face = head & (verts[:, 2] > c[2] + 0.02)
    mask = head * _smoothstep((verts[:, 2] - c[2]) / 0.06)
    dirs = np.zeros((len(verts), 3, NUM_EXPRESSION_COEFFS))
    lower = mask * _smoothstep((0.262 - verts[:, 1]) / 0.03)
    dirs[:, :, 0] = lower[:, None] * np.array([0.0, -0.008, 0.002])  # mouth opening
    corners = np.zeros(len(verts))
    for sx in (1.0, -1.0):
        corners += np.exp(-0.5 * (((verts[:, 0] - sx * 0.024) / 0.012) ** 2 + ((verts[:, 1] - 0.252) / 0.01) ** 2))
    dirs[:, :, 1] = (mask * corners)[:, None] * np.stack(
        [0.004 * np.sign(verts[:, 0]), np.full(len(verts), 0.004), np.zeros(len(verts))], 1
    )  # smile
    amp = 0.004 / (1.0 + np.arange(NUM_EXPRESSION_COEFFS - 2)) ** 0.5
    dirs[:, :, 2:] = _rbf_fields(verts, NUM_EXPRESSION_COEFFS - 2, 3, (0.012, 0.035), rng, face) * amp
    dirs[:, :, 2:] *= mask[:, None, None]
    return dirs


def _pose_dirs(weights, radial, rng) -> np.ndarray:
    """Small pose correctives (V, 3, 486): joint j's 9 features only move vertices it skins."""
    dirs = np.zeros((len(weights), 3, NUM_POSE_BASIS), dtype=np.float32)
    for j in range(1, NUM_JOINTS):
        w = weights[:, j]
        idx = np.flatnonzero(w > 0)
        if len(idx) == 0:
            continue
        m = 0.002 * rng.standard_normal((3, 9))
        c = 0.03 * rng.standard_normal(9)
        block = w[idx, None, None] * (m[None] + radial[idx, :, None] * c[None, None, :])
        dirs[idx, :, 9 * (j - 1) : 9 * j] = block
    return dirs


# ---------------------------------------------------------------------------------- landmarks


def _landmark_targets() -> np.ndarray:
    """(51, 2) x, y of the iBUG-68 points 17..67 (brows, nose, eyes, lips) on the neutral face;
    subject's right (-x) first, as in the 68-point convention."""
    pts = []
    for sx in (-1.0, 1.0):  # brows: right then left, each from outer to inner / inner to outer
        xs = np.linspace(0.056, 0.014, 5) if sx < 0 else np.linspace(0.014, 0.056, 5)
        for x in xs:
            pts.append((sx * x, 0.334 + 0.006 * np.cos((x - 0.035) / 0.03)))
    pts += [(0.0, y) for y in (0.318, 0.307, 0.296, 0.285)]  # nose bridge to tip
    pts += [(x, 0.270 + 0.002 * (abs(x) < 0.005)) for x in (-0.015, -0.008, 0.0, 0.008, 0.015)]
    for cx in (-0.032, 0.032):  # eyes: outer corner, upper lid x2, inner corner, lower lid x2
        ang = np.deg2rad([180, 120, 60, 0, -60, -120]) if cx < 0 else np.deg2rad([180, 120, 60, 0, -60, -120])
        for a in ang:
            pts.append((cx + 0.014 * np.cos(a), 0.310 + 0.0045 * np.sin(a)))
    for k in range(12):  # outer lip, from the right corner, upper lip first
        a = np.pi - 2 * np.pi * k / 12
        pts.append((0.025 * np.cos(a), 0.252 + 0.009 * np.sin(a)))
    for k in range(8):  # inner lip
        a = np.pi - 2 * np.pi * k / 8
        pts.append((0.016 * np.cos(a), 0.252 + 0.003 * np.sin(a)))
    return np.array(pts)


def _front_faces(verts, faces, head):
    c = _HEAD_CENTER
    tri = verts[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    ok = head[faces].all(1) & (tri[:, :, 2].mean(1) > c[2] + 0.03) & (normal[:, 2] > 0)
    return np.flatnonzero(ok)


def _bary_xy(tri: np.ndarray, p: np.ndarray) -> np.ndarray:
    a, b, c = tri[:, :2]
    m = np.array([b - a, c - a]).T
    try:
        l1, l2 = np.linalg.solve(m, p - a)
    except np.linalg.LinAlgError:
        return np.full(3, 1 / 3)
    bc = np.clip(np.array([1 - l1 - l2, l1, l2]), 0.0, None)
    return bc / bc.sum()


def _static_landmarks(verts, faces, head):
    cand = _front_faces(verts, faces, head)
    cent = verts[faces[cand]].mean(1)
    idx, bary = [], []
    for p in _landmark_targets():
        f = cand[np.argmin(np.linalg.norm(cent[:, :2] - p, axis=1))]
        idx.append(f)
        bary.append(_bary_xy(verts[faces[f]], p))
    return np.array(idx), np.array(bary)


def _dynamic_landmarks(verts, faces, head):
    """Face-contour look-up table (79 head-yaw bins x 17 points): bin k <= 39 is a yaw of -k
    degrees, bin k > 39 one of k - 39 degrees (smplx's indexing); the jaw line is sampled at
    azimuths shifted towards the visible silhouette."""
    c = _HEAD_CENTER
    cand = np.flatnonzero(head[faces].all(1))
    cent = verts[faces[cand]].mean(1)
    az = np.arctan2(cent[:, 0], cent[:, 2] - c[2])
    u = np.linspace(-1.0, 1.0, NUM_CONTOUR)
    y = 0.205 + 0.085 * np.abs(u) ** 1.5
    idx = np.zeros((NUM_DYNAMIC_BINS, NUM_CONTOUR), dtype=np.int64)
    for k in range(NUM_DYNAMIC_BINS):
        angle = k if k <= 39 else 39 - k
        phi = np.deg2rad(u * 80.0 + angle * np.abs(u))
        for i in range(NUM_CONTOUR):
            dphi = np.angle(np.exp(1j * (az - phi[i])))
            cost = (0.09 * dphi) ** 2 + (cent[:, 1] - y[i]) ** 2
            idx[k, i] = cand[np.argmin(cost)]
    bary = np.full((NUM_DYNAMIC_BINS, NUM_CONTOUR, 3), 1.0 / 3.0)
    return idx, bary


# ------------------------------------------------------------------------------------- saving


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed`` but stores the large, incompressible shape basis uncompressed
    (much faster to write and read; ``np.load`` handles mixed members)."""
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, mode="w", allowZip64=True) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "shapedirs" else zipfile.ZIP_DEFLATED
            with zf.open(info, mode="w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(arr), allow_pickle=False)
    tmp.replace(path)
