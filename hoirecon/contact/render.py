"""Render step of Render-Localize-Lift: fixed multi-view renders of a canonical body and of the object.

InteractVLM (reference-facts.md) predicts contacts as 2D masks on a few fixed renders of a canonical
mesh and lifts them back to the vertices. This module makes those renders on the CPU with Open3D's
``RaycastingScene`` (Embree; no window, no GL context): one ray per pixel centre, all views of a mesh
in a single batched ``cast_rays`` call, and only at pixels inside some projected triangle's bounding
box (a cheap superset of the covered pixels).

Each :class:`RenderedView` holds, per pixel, the triangle id (-1 = background), the barycentric
weights of the hit point on that triangle's three vertices ``faces[tri]`` (they sum to 1), the
camera-frame depth and a picture for people and for the localizer: the body is shaded by its normals
(world-frame normal map, ``0.5 * (n + 1)``), the object by its vertex colours = normalised XYZ
(``0.1 + 0.8 * (xyz - min) / (max - min)``, InteractVLM's colouring), both times a flat Lambert term
``0.6 + 0.4 * |n_face . camera axis|``; the background is white.

Frames and cameras
------------------
hoirecon's canonical frames (body: x left, y down, z back; object: y down, front -z) become the
**y-up look-at world** of the view sets by ``(x, y, z) -> (x, -y, -z)`` (a 180 degree rotation about
x, the same one as the glTF export): y up, the body faces +z, the object's front faces +z. The body
is then placed with its bounding-box centre at the origin; the object is centred (bounding box) and
scaled to unit largest extent.

Cameras are ``[distance, elevation deg, azimuth deg, x-shift, y-shift]`` from
``hoirecon/data/rll_views.json``, interpreted exactly as PyTorch3D's ``look_at_view_transform`` (eye at
``distance * (cos e sin a, sin e, cos e cos a)``, looking at the origin, up +y; the shifts are added to
the view-space translation, whose axes are +x left, +y up). We store each camera as OpenCV
extrinsics/intrinsics (x right, y down, z forward): ``x_cam = R @ x_world + t``, pixel
``u = K @ x_cam / z`` with the pixel-corner origin, so pixel (i, j) is hit by the ray through
``(j + 0.5, i + 0.5)``. Field of view: 60 degrees vertical (square images), PyTorch3D's
``FoVPerspectiveCameras`` default, which InteractVLM keeps; ``fx = fy = (size / 2) / tan(30 deg)``.

The human views show the body model in its canonical open pose ("Vitruvian": arms out, legs apart),
found per body model by :func:`hoirecon.body.open_pose_vertices`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator, Sequence

import numpy as np

from hoirecon.body.open_pose import open_pose_vertices
from hoirecon.geometry.frames import flip_yz
from hoirecon.geometry.mesh import face_normals_scaled, vertex_normals
from hoirecon.geometry.raycast import raycasting_scene
from hoirecon.types import ObjectMesh

__all__ = [
    "ViewSpec",
    "RenderedView",
    "ViewSet",
    "view_config",
    "view_specs",
    "canonical_to_world",
    "look_at",
    "render_views",
    "render_body_views",
    "render_human_views",
    "render_object_views",
    "normalize_object",
]

_INVALID = np.uint32(0xFFFFFFFF)


# ------------------------------------------------------------------------------------------ data


@lru_cache(maxsize=1)
def view_config() -> dict[str, Any]:
    """The parsed ``rll_views.json`` (cached; do not mutate)."""
    return json.loads(resources.files("hoirecon.data").joinpath("rll_views.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ViewSpec:
    """One look-at camera: ``[distance, elevation deg, azimuth deg, x-shift, y-shift]`` (see module doc)."""

    name: str
    distance: float
    elevation_deg: float
    azimuth_deg: float
    x_shift: float = 0.0
    y_shift: float = 0.0

    def as_list(self) -> list[float]:
        return [self.distance, self.elevation_deg, self.azimuth_deg, self.x_shift, self.y_shift]


def view_specs(kind: str) -> tuple[ViewSpec, ...]:
    """The configured views of ``kind`` ("human" or "object"), in the file's order."""
    cfg = view_config()
    if kind not in ("human", "object"):
        raise ValueError(f"unknown view set '{kind}' (human or object)")
    return tuple(ViewSpec(v["name"], *(float(x) for x in v["camera"])) for v in cfg[kind])


def canonical_to_world(points: np.ndarray) -> np.ndarray:
    """hoirecon canonical frame (y down, front -z) -> y-up look-at world: ``(x, -y, -z)``
    (``hoirecon.geometry.frames.flip_yz``); (N, 3) float64."""
    return flip_yz(np.asarray(points).reshape(-1, 3))


def look_at(spec: ViewSpec, size: int, fov_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(K, R, t)`` of a view, OpenCV axes: ``x_cam = R @ x_world + t``; K for a ``size``-pixel square."""
    e, a = math.radians(spec.elevation_deg), math.radians(spec.azimuth_deg)
    eye = spec.distance * np.array([math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)])
    z = -eye / np.linalg.norm(eye)  # looking at the origin
    x = np.cross([0.0, 1.0, 0.0], z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    # PyTorch3D view axes (x left, y up, z forward) -> OpenCV (x right, y down, z forward).
    R = np.stack([-x, -y, z])
    t = -R @ eye - np.array([spec.x_shift, spec.y_shift, 0.0])
    f = 0.5 * size / math.tan(math.radians(fov_deg) / 2.0)
    K = np.array([[f, 0.0, 0.5 * size], [0.0, f, 0.5 * size], [0.0, 0.0, 1.0]])
    return K, R, t


# ------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RenderedView:
    """One rendered view (``size`` x ``size`` pixels).

    image: (H, W, 3) uint8 RGB picture (white background).
    tri_id: (H, W) int32 triangle index into the view set's ``faces``, -1 on the background.
    bary: (H, W, 3) float32 barycentric weights of the hit on ``faces[tri_id]`` (sum 1; 0 background).
    depth: (H, W) float32 camera-frame z of the hit (inf on the background).
    K, R, t: OpenCV intrinsics and extrinsics (``x_cam = R @ x_world + t``), float64.
    """

    spec: ViewSpec
    image: np.ndarray
    tri_id: np.ndarray
    bary: np.ndarray
    depth: np.ndarray
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def size(self) -> int:
        return int(self.tri_id.shape[0])

    @property
    def mask(self) -> np.ndarray:
        return self.tri_id >= 0

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """(N, 3) world points -> (N, 2) pixels (pixel-corner origin)."""
        p = np.asarray(points_world, np.float64) @ self.R.T + self.t
        uv = p @ self.K.T
        return uv[:, :2] / uv[:, 2:3]


@dataclass(frozen=True)
class ViewSet:
    """The views of one mesh. ``vertices`` (V, 3) float32: the mesh as rendered (y-up world);
    ``faces`` (F, 3) int64; ``kind``: "human" or "object"; ``normalization``: how the mesh was placed
    (``world = scale * canonical_to_world(x) - offset``; JSON-ready)."""

    kind: str
    views: tuple[RenderedView, ...]
    vertices: np.ndarray
    faces: np.ndarray
    fov_deg: float
    size: int
    normalization: dict

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.views)

    @property
    def num_vertices(self) -> int:
        return int(len(self.vertices))

    def __len__(self) -> int:
        return len(self.views)

    def __iter__(self) -> Iterator[RenderedView]:
        return iter(self.views)

    def __getitem__(self, key: int | str) -> RenderedView:
        if isinstance(key, str):
            return self.views[self.names.index(key)]
        return self.views[key]


# ------------------------------------------------------------------------------------ renderer


def _coverage(uv_tri: np.ndarray, size: int) -> np.ndarray:
    """Flat indices of the pixels whose centre lies in the bounding box of some projected triangle
    (a superset of the pixels the triangles cover). ``uv_tri``: (F, 3, 2) pixel coordinates.

    Pixel (i, j) has its centre at (j + 0.5, i + 0.5), so a box [x0, x1] holds the columns
    ceil(x0 - 0.5) .. floor(x1 - 0.5). The boxes are summed into a 2D difference array (one bincount),
    whose cumulative sums count the boxes over each pixel.
    """
    lo = np.ceil(uv_tri.min(1) - 0.5)
    hi = np.floor(uv_tri.max(1) - 0.5)
    lo = np.clip(lo, 0, size).astype(np.int64)
    hi = np.clip(hi, -1, size - 1).astype(np.int64) + 1  # exclusive
    ok = (hi[:, 0] > lo[:, 0]) & (hi[:, 1] > lo[:, 1])
    lo, hi = lo[ok], hi[ok]
    n = size + 1
    corners = np.concatenate([lo[:, 1] * n + lo[:, 0], lo[:, 1] * n + hi[:, 0], hi[:, 1] * n + lo[:, 0],
                              hi[:, 1] * n + hi[:, 0]])  # fmt: skip
    signs = np.repeat(np.array([1.0, -1.0, -1.0, 1.0]), len(lo))
    diff = np.bincount(corners, weights=signs, minlength=n * n).reshape(n, n)
    count = diff.cumsum(0).cumsum(1)[:size, :size]
    return np.flatnonzero(count.reshape(-1) > 0.5)


def render_views(
    vertices: np.ndarray,
    faces: np.ndarray,
    specs: Sequence[ViewSpec],
    *,
    size: int,
    fov_deg: float,
    colors: np.ndarray | None = None,
    kind: str = "mesh",
    normalization: dict | None = None,
    exhaustive: bool = False,
) -> ViewSet:
    """Ray cast a mesh (y-up world coordinates) from every view in ``specs``.

    ``colors``: (V, 3) float in 0..1 per-vertex colours; None shades by the world-frame normal map.
    All views' rays go to Open3D in one ``cast_rays`` call; each view casts only the pixels inside the
    bounding box of some projected triangle (:func:`_coverage`); ``exhaustive`` casts every pixel
    instead (same result, slower; for checks).
    """
    import open3d as o3d  # lazy: heavy (the scene comes from hoirecon.geometry.raycast; rays need its Tensor)

    v = np.ascontiguousarray(np.asarray(vertices, np.float32).reshape(-1, 3))
    f = np.asarray(faces, np.int64).reshape(-1, 3)
    if len(f) == 0 or f.min() < 0 or f.max() >= len(v):
        raise ValueError(f"{kind}: faces must index the {len(v)} vertices")
    size = int(size)
    scene = raycasting_scene(v, f)

    v64 = v.astype(np.float64)
    cams, pixels, chunks = [], [], []
    all_pixels = np.arange(size * size)
    for spec in specs:
        K, R, t = look_at(spec, size, fov_deg)
        p = v64 @ R.T + t
        if not exhaustive and (p[:, 2] > 1e-3).all():
            pix = _coverage(((p[:, :2] / p[:, 2:3]) * K[0, 0] + K[0, 2])[f], size)
        else:  # the mesh reaches behind the camera: cast the whole image
            pix = all_pixels
        a = ((pix % size + 0.5 - K[0, 2]) / K[0, 0]).astype(np.float32)
        b = ((pix // size + 0.5 - K[1, 2]) / K[1, 1]).astype(np.float32)
        Rf = R.astype(np.float32)
        rays = np.empty((len(pix), 6), np.float32)
        rays[:, :3] = (-R.T @ t).astype(np.float32)  # the (shifted) eye
        rays[:, 3:] = a[:, None] * Rf[0] + b[:, None] * Rf[1] + Rf[2]  # camera z == 1
        cams.append((K, R, t))
        pixels.append(pix + (len(cams) - 1) * size * size)
        chunks.append(rays)
    res = scene.cast_rays(o3d.core.Tensor(np.concatenate(chunks)), nthreads=0)
    prim = res["primitive_ids"].numpy().reshape(-1)
    uvs = res["primitive_uvs"].numpy().reshape(-1, 2)
    t_hit = res["t_hit"].numpy().reshape(-1)
    geom = res["geometry_ids"].numpy().reshape(-1)

    if colors is not None:
        col = np.clip(np.asarray(colors, np.float32).reshape(len(v), 3), 0.0, 1.0)
    else:
        col = 0.5 * (vertex_normals(v64, f).astype(np.float32) + 1.0)

    # Hits only, all views at once; ``pix``: flat index into the stacked (n_views, size, size) outputs.
    n_views = len(cams)
    view_len = np.array([len(p) for p in pixels])
    hit = np.flatnonzero(geom != _INVALID)
    pix = np.concatenate(pixels)[hit]
    view_of = np.repeat(np.arange(n_views), view_len)[hit]

    uu, vv = uvs[hit, 0], uvs[hit, 1]
    b0 = (1.0 - uu - vv).astype(np.float32)[:, None]
    b1, b2 = uu[:, None].astype(np.float32), vv[:, None].astype(np.float32)
    bh = np.concatenate([b0, b1, b2], 1)
    tri_h = prim[hit].astype(np.int64)
    g = np.ascontiguousarray(col[f].reshape(len(f), 9))[tri_h]  # per-hit vertex colours, one gather
    rgb = b0 * g[:, 0:3] + b1 * g[:, 3:6] + b2 * g[:, 6:9]
    fn = face_normals_scaled(v64, f)
    fn = (fn / np.maximum(np.linalg.norm(fn, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    fwd = np.stack([c[1][2] for c in cams]).astype(np.float32)  # camera z axis (world) per view
    lam = 0.6 + 0.4 * np.abs(np.einsum("nc,nc->n", fn[tri_h], fwd[view_of]))  # flat (face) Lambert term

    tri = np.full(n_views * size * size, -1, np.int32)
    tri[pix] = tri_h
    bary = np.zeros((n_views * size * size, 3), np.float32)
    bary[pix] = bh
    depth = np.full(n_views * size * size, np.inf, np.float32)
    depth[pix] = t_hit[hit]  # camera z == 1 along every ray, so t == depth
    image = np.full((n_views * size * size, 3), 255, np.uint8)
    image[pix] = np.clip(np.round(255.0 * rgb * lam[:, None]), 0, 255).astype(np.uint8)
    tri = tri.reshape(n_views, size, size)
    bary = bary.reshape(n_views, size, size, 3)
    depth = depth.reshape(n_views, size, size)
    image = image.reshape(n_views, size, size, 3)
    views = [RenderedView(spec, image[k], tri[k], bary[k], depth[k], *cams[k]) for k, spec in enumerate(specs)]
    return ViewSet(kind, tuple(views), v, f, float(fov_deg), size, dict(normalization or {}))


# --------------------------------------------------------------------------------- view sets


def _specs_and_settings(kind: str, size: int | None, fov_deg: float | None) -> tuple[tuple[ViewSpec, ...], int, float]:
    cfg = view_config()
    return view_specs(kind), int(size or cfg["image_size"]), float(fov_deg or cfg["fov_deg"])


def render_body_views(vertices_canonical: np.ndarray, faces: np.ndarray, *, size: int | None = None,
                      fov_deg: float | None = None) -> ViewSet:  # fmt: skip
    """The human view set of a body given in a canonical frame (x left, y down, z back; metres):
    converted to the y-up world, bounding-box centre at the origin, normal-shaded."""
    specs, size, fov = _specs_and_settings("human", size, fov_deg)
    w = canonical_to_world(vertices_canonical)
    offset = 0.5 * (w.min(0) + w.max(0))
    norm = {"frame": "canonical -> (x, -y, -z)", "scale": 1.0, "offset": offset.round(6).tolist()}
    return render_views(w - offset, faces, specs, size=size, fov_deg=fov, colors=None, kind="human", normalization=norm)


_HUMAN_CACHE: dict[tuple[str, int, int, float], tuple[Any, ViewSet]] = {}


def render_human_views(model, *, size: int | None = None, fov_deg: float | None = None, cache: bool = True) -> ViewSet:
    """The human view set of a body model in its canonical open pose (``hoirecon.body.open_pose_vertices``;
    cached per model object and size)."""
    specs, size_, fov = _specs_and_settings("human", size, fov_deg)
    key = (getattr(model, "name", "?"), id(model), size_, fov)
    if cache and key in _HUMAN_CACHE and _HUMAN_CACHE[key][0] is model:
        return _HUMAN_CACHE[key][1]
    vs = render_body_views(open_pose_vertices(model), model.faces, size=size_, fov_deg=fov)
    if cache:
        _HUMAN_CACHE.clear()  # keep one (large) view set alive at most
        _HUMAN_CACHE[key] = (model, vs)
    return vs


def normalize_object(vertices_canonical: np.ndarray) -> tuple[np.ndarray, dict]:
    """Object canonical frame -> y-up world, bounding-box centre at the origin, largest extent 1.
    Returns (V, 3) float64 and the normalisation record."""
    w = canonical_to_world(vertices_canonical)
    lo, hi = w.min(0), w.max(0)
    ext = float((hi - lo).max())
    scale = 1.0 / ext if ext > 0 else 1.0
    offset = 0.5 * (lo + hi) * scale
    return w * scale - offset, {"frame": "canonical -> (x, -y, -z)", "scale": scale, "offset": offset.round(6).tolist()}


def render_object_views(mesh: ObjectMesh | tuple[np.ndarray, np.ndarray], *, size: int | None = None,
                        fov_deg: float | None = None) -> ViewSet:  # fmt: skip
    """The object view set: the mesh centred, scaled to unit largest extent, coloured by its normalised
    XYZ. ``mesh``: an ObjectMesh or ``(vertices canonical, faces)``."""
    verts, faces = (mesh.vertices, mesh.faces) if isinstance(mesh, ObjectMesh) else mesh
    specs, size, fov = _specs_and_settings("object", size, fov_deg)
    w, norm = normalize_object(verts)
    lo, hi = w.min(0), w.max(0)
    colors = 0.1 + 0.8 * (w - lo) / np.where(hi - lo > 0, hi - lo, 1.0)
    return render_views(w, faces, specs, size=size, fov_deg=fov, colors=colors, kind="object", normalization=norm)
