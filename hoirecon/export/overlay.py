"""Overlay of the reconstructed meshes on the photo, ray cast on the CPU (no window, no GL context).

One ray per pixel through the pixel centre, from the camera origin, in the camera frame
(x right, y down, z forward): direction ``((u + 0.5 - cx) / fx, (v + 0.5 - cy) / fy, 1)``.
Open3D's ``RaycastingScene`` (Embree; built by :func:`hoirecon.geometry.raycast.raycasting_scene`) gives
the nearest hit's geometry id, triangle id and barycentric coordinates; the colour is the per-vertex
colour interpolated on the triangle times a Lambert term ``0.3 + 0.7 * |n . view|`` with the face
normal (two-sided, so winding does not matter).

Large photos are rendered at most ``max_side`` pixels on the long side (intrinsics scaled exactly with
the image) and the coverage and premultiplied colour are resized up to the photo with bilinear
filtering, which also softens the silhouette edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from hoirecon.geometry.raycast import raycasting_scene
from hoirecon.types import CameraIntrinsics

__all__ = ["render_overlay", "render_layers", "draw_outline", "RenderLayers", "OverlayMesh"]

# (vertices (V, 3) camera frame metres, faces (F, 3) int, colours (V, 3) float in 0..1)
OverlayMesh = tuple[np.ndarray, np.ndarray, np.ndarray]

_INVALID = np.uint32(0xFFFFFFFF)


@dataclass(frozen=True)
class RenderLayers:
    """Ray-casting result at the render resolution (``height`` x ``width``).

    color: (h, w, 3) float32 shaded colour in 0..1 (0 where nothing was hit).
    mesh_index: (h, w) int32 index into the ``meshes`` list, -1 where nothing was hit.
    depth: (h, w) float32 ray parameter == camera-frame z of the hit (inf where nothing was hit).
    camera: the intrinsics used (scaled from the photo's if the render was downsized).
    """

    color: np.ndarray
    mesh_index: np.ndarray
    depth: np.ndarray
    camera: CameraIntrinsics

    @property
    def mask(self) -> np.ndarray:
        return self.mesh_index >= 0


def _scaled_camera(camera: CameraIntrinsics, width: int, height: int) -> CameraIntrinsics:
    """Intrinsics for the same view at another resolution (pixel-corner origin: coordinates scale)."""
    sx = width / float(camera.width)
    sy = height / float(camera.height)
    return CameraIntrinsics(
        fx=camera.fx * sx, fy=camera.fy * sy, cx=camera.cx * sx, cy=camera.cy * sy,
        width=int(width), height=int(height), source=camera.source,
    )


def render_layers(camera: CameraIntrinsics, meshes: Sequence[OverlayMesh]) -> RenderLayers:
    """Ray cast ``meshes`` at exactly ``camera.width`` x ``camera.height``."""
    import open3d as o3d  # imported lazily: heavy, and only the overlay needs it

    h, w = int(camera.height), int(camera.width)
    face_offsets: list[int] = []
    tri_colors: list[np.ndarray] = []  # (F, 3, 3) per-face vertex colours
    tri_normals: list[np.ndarray] = []  # (F, 3) unit face normals
    mesh_of_geom: list[int] = []  # raycasting_scene numbers the geometries 0, 1, 2, ... in order
    geoms: list[tuple[np.ndarray, np.ndarray]] = []
    n_faces = 0
    for k, (verts, faces, colors) in enumerate(meshes):
        v = np.ascontiguousarray(np.asarray(verts, dtype=np.float32).reshape(-1, 3))
        f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
        if len(f) == 0 or len(v) == 0:
            continue
        if f.min() < 0 or f.max() >= len(v):
            raise ValueError(f"overlay mesh {k}: face index out of range")
        c = np.asarray(colors, dtype=np.float32)
        if c.ndim == 1:
            c = np.broadcast_to(c[:3], (len(v), 3))
        if c.shape != (len(v), 3):
            raise ValueError(f"overlay mesh {k}: colours must be (V, 3), got {c.shape}")
        geoms.append((v, f))
        mesh_of_geom.append(k)
        face_offsets.append(n_faces)
        n_faces += len(f)
        tri = v[f].astype(np.float64)
        fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        ln = np.linalg.norm(fn, axis=1, keepdims=True)
        tri_normals.append((fn / np.where(ln > 0, ln, 1.0)).astype(np.float32))
        tri_colors.append(np.clip(c, 0.0, 1.0)[f])

    color = np.zeros((h, w, 3), np.float32)
    mesh_index = np.full((h, w), -1, np.int32)
    depth = np.full((h, w), np.inf, np.float32)
    if not mesh_of_geom:
        return RenderLayers(color, mesh_index, depth, camera)

    scene = raycasting_scene(*geoms[0], *geoms[1:])
    xs = ((np.arange(w, dtype=np.float64) + 0.5 - camera.cx) / camera.fx).astype(np.float32)
    ys = ((np.arange(h, dtype=np.float64) + 0.5 - camera.cy) / camera.fy).astype(np.float32)
    rays = np.zeros((h, w, 6), np.float32)
    rays[..., 3] = xs[None, :]
    rays[..., 4] = ys[:, None]
    rays[..., 5] = 1.0
    res = scene.cast_rays(o3d.core.Tensor(rays.reshape(-1, 6)))

    geom = res["geometry_ids"].numpy().reshape(-1)
    hit = np.flatnonzero(geom != _INVALID)
    if len(hit) == 0:
        return RenderLayers(color, mesh_index, depth, camera)
    g = geom[hit].astype(np.int64)
    prim = res["primitive_ids"].numpy().reshape(-1)[hit].astype(np.int64)
    uv = res["primitive_uvs"].numpy().reshape(-1, 2)[hit]
    t_hit = res["t_hit"].numpy().reshape(-1)[hit]

    all_face = np.asarray(face_offsets, np.int64)[g] + prim
    normals = np.concatenate(tri_normals)[all_face]
    tcol = np.concatenate(tri_colors)[all_face]  # (N, 3 vertices, 3 rgb)
    b1, b2 = uv[:, 0:1], uv[:, 1:2]
    rgb = (1.0 - b1 - b2) * tcol[:, 0] + b1 * tcol[:, 1] + b2 * tcol[:, 2]

    d = rays.reshape(-1, 6)[hit, 3:6]
    d = d / np.linalg.norm(d, axis=1, keepdims=True)
    lambert = 0.3 + 0.7 * np.abs(np.einsum("ij,ij->i", normals, d))
    shaded = np.clip(rgb * lambert[:, None], 0.0, 1.0)

    color.reshape(-1, 3)[hit] = shaded
    mesh_index.reshape(-1)[hit] = np.asarray(mesh_of_geom, np.int32)[g]
    depth.reshape(-1)[hit] = t_hit  # direction has z == 1, so t == z
    return RenderLayers(color, mesh_index, depth, camera)


def draw_outline(
    image_rgb: np.ndarray, mask: np.ndarray, color=(255, 255, 255), thickness: int = 1
) -> np.ndarray:
    """Return a copy of ``image_rgb`` with the boundary of ``mask`` (H, W bool) drawn in ``color``."""
    out = np.array(image_rgb, dtype=np.uint8, copy=True)
    m = np.asarray(mask, dtype=np.uint8)
    if m.shape != out.shape[:2]:
        raise ValueError(f"mask shape {m.shape} does not match image {out.shape[:2]}")
    contours, _ = cv2.findContours(m, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, tuple(int(x) for x in color), max(1, int(thickness)))
    return out


def render_overlay(
    image_rgb: np.ndarray,
    camera: CameraIntrinsics,
    meshes: Sequence[OverlayMesh],
    alpha: float = 0.6,
    max_side: int = 1024,
    outline: bool = False,
) -> np.ndarray:
    """Alpha-blend the shaded ``meshes`` over the photo; returns (H, W, 3) uint8.

    ``meshes``: list of ``(vertices camera frame (V, 3) metres, faces (F, 3), colours (V, 3) 0..1)``.
    ``camera`` describes the photo (its width/height may differ from the array's only by a uniform
    rescale: intrinsics are rescaled to the array's size). Rendering is done at most ``max_side``
    pixels on the long side and resized up. ``outline``: draw each mesh's silhouette in a darker
    shade of its mean colour.
    """
    img = np.asarray(image_rgb)
    if img.ndim != 3 or img.shape[2] < 3:
        raise ValueError(f"image must be (H, W, 3), got {img.shape}")
    img = img[..., :3]
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    H, W = img.shape[:2]
    cam = camera if (camera.width, camera.height) == (W, H) else _scaled_camera(camera, W, H)

    scale = min(1.0, float(max_side) / max(H, W)) if max_side else 1.0
    rw, rh = max(1, int(round(W * scale))), max(1, int(round(H * scale)))
    rcam = cam if (rw, rh) == (W, H) else _scaled_camera(cam, rw, rh)
    layers = render_layers(rcam, meshes)

    a = float(np.clip(alpha, 0.0, 1.0))
    cover = layers.mask.astype(np.float32)
    premul = layers.color * cover[..., None]
    if (rw, rh) != (W, H):
        cover = cv2.resize(cover, (W, H), interpolation=cv2.INTER_LINEAR)
        premul = cv2.resize(premul, (W, H), interpolation=cv2.INTER_LINEAR)
    weight = (a * np.clip(cover, 0.0, 1.0))[..., None]
    out = img.astype(np.float32) * (1.0 - weight) + (a * 255.0) * premul
    out = np.clip(np.round(out), 0, 255).astype(np.uint8)

    if outline:
        for k, (_, _, colors) in enumerate(meshes):
            mk = layers.mesh_index == k
            if not mk.any():
                continue
            if (rw, rh) != (W, H):
                mk = cv2.resize(mk.astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST).astype(bool)
            c = np.asarray(colors, dtype=np.float32).reshape(-1, 3).mean(0)
            out = draw_outline(out, mk, tuple(np.clip(c * 0.6 * 255.0, 0, 255).astype(int)), 1)
    return out
