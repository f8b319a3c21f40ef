"""A metric proxy mesh for a label that no category matches, shaped by the object's mask.

A user with a photo always gets a scene: for "flux capacitor" or "banana peel" the object is built
from what the photo shows of it.

* **Shape.** The object mask, cropped to its box and resampled to at most ``GRID`` cells on its long
  side, is turned into a solid and meshed with marching cubes (closed, watertight, outward winding):
  - *revolved* about its vertical axis when the silhouette is about mirror-symmetric (the mask and its
    mirror image about the mask's centre column overlap with IoU >= ``SYMMETRIC_IOU``): a symmetric
    outline most often belongs to a body of revolution (a vase, a bottle, a lamp, a balloon), and the
    revolved solid is what that outline implies in depth;
  - else *extruded* from the silhouette to a thickness of half its smaller side: a one-sided outline
    gives no hint of its depth, and half the smaller side keeps the proxy a plausible slab (a sign, a
    tool) instead of a sheet or a cube.
  Light smoothing rounds the edges so that the contacts meet a surface rather than voxel steps.
* **Size.** The largest extent is ``size_m``: ``--object-size`` when given, else the nearest
  category's ``size_m`` by text embedding (``LabelMatch.nearest``), else the ``proxy`` entry's in
  ``objects.json``; the fit's scale prior is the proxy entry's (wide) ``scale_sigma``.
* **Parts.** ``top`` (the highest fifth of the height), ``bottom`` (the lowest fifth) and ``grip`` (the
  rest), so that the contact modes of the ``proxy`` entry of ``contacts.json`` (hold by the grip,
  sit or stand on the top, a hand on the top) work as for any category.

The mesh is in the canonical object frame (:mod:`hoirecon.objects.library`): metres, y down, base on
y = 0, centred on x and z. ``ObjectMesh.source`` is ``"proxy:revolved"`` or ``"proxy:extruded"``.
"""

from __future__ import annotations

import numpy as np

from hoirecon.errors import InputError
from hoirecon.types import ObjectMesh

__all__ = ["GRID", "SYMMETRIC_IOU", "proxy_mesh", "mirror_iou"]

GRID = 40  # cells on the mask's long side
SYMMETRIC_IOU = 0.8  # the mask against its mirror image: at least this, and the proxy is revolved
MAX_VERTICES = 3000


def _crop(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _resample(mask: np.ndarray, grid: int) -> np.ndarray:
    """The cropped mask at most ``grid`` cells on its long side (area-averaged, thresholded at 0.5)."""
    import cv2

    h, w = mask.shape
    s = min(1.0, grid / max(h, w))
    size = (max(2, round(w * s)), max(2, round(h * s)))
    small = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    out = small >= 0.5
    return out if out.any() else small > 0


def mirror_iou(mask: np.ndarray) -> float:
    """IoU of a (cropped) mask with its mirror image about its centre column (the column mean of its
    pixels): 1 for a left-right symmetric silhouette."""
    m = mask.astype(bool)
    ys, xs = np.nonzero(m)
    if not len(xs):
        return 0.0
    c = float(xs.mean())
    mx = np.round(2 * c - xs).astype(int)
    ok = (mx >= 0) & (mx < m.shape[1])
    mirrored = np.zeros_like(m)
    mirrored[ys[ok], mx[ok]] = True
    union = float((m | mirrored).sum())
    return float((m & mirrored).sum()) / union if union else 0.0


def _solid(cells: np.ndarray, revolve: bool) -> np.ndarray:
    """(H, W, D) float occupancy, padded by 2 cells on every side: rows are the image's rows (down),
    columns its columns, the third axis the depth."""
    h, w = cells.shape
    if revolve:
        half = cells.sum(1) / 2.0  # each row's half width, cells
        D = w
        x = np.arange(w) + 0.5 - w / 2.0
        z = np.arange(D) + 0.5 - D / 2.0
        rr = np.sqrt(x[:, None] ** 2 + z[None, :] ** 2)  # (W, D)
        vol = (rr[None] <= half[:, None, None]).astype(np.float32)
    else:
        D = max(2, int(round(0.5 * min(h, w))))
        vol = np.repeat(cells[:, :, None], D, axis=2).astype(np.float32)
    return np.pad(vol, 2)


def proxy_mesh(mask: np.ndarray, size_m: float, *, grid: int = GRID) -> ObjectMesh:
    """The proxy mesh of an object whose mask (H, W) bool is given, its largest extent ``size_m``
    metres (see the module docstring). InputError for an empty mask or a non-positive size."""
    from scipy.ndimage import gaussian_filter
    from skimage.measure import marching_cubes

    from hoirecon.objects.library import canonicalise, decimate, readonly, height_parts

    if not np.isfinite(size_m) or size_m <= 0:
        raise InputError(f"the proxy object's size must be a positive number of metres, got {size_m}")
    m = np.asarray(mask, bool)
    if m.ndim != 2 or not m.any():
        raise InputError("cannot build a proxy object: its mask is empty")
    cells = _resample(_crop(m), grid)
    revolve = mirror_iou(cells) >= SYMMETRIC_IOU
    vol = gaussian_filter(_solid(cells, revolve), 0.7)
    verts, faces, _, _ = marching_cubes(vol, level=0.5 * float(vol.max()))
    # (row, col, depth) cells -> y-up / front +z builder frame: x = col, y = -row, z = depth
    v = np.stack([verts[:, 1], -verts[:, 0], verts[:, 2]], 1).astype(np.float64)
    f = np.asarray(faces, np.int64)
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    if np.einsum("ij,ij->i", a, np.cross(b, c)).sum() < 0:  # outward winding
        f = np.ascontiguousarray(f[:, ::-1])
    if len(v) > MAX_VERTICES:
        v, f = decimate(v, f, MAX_VERTICES)
    v = canonicalise(v, float(size_m))
    part, names = height_parts(v)
    return ObjectMesh(
        category="proxy",
        vertices=readonly(v.astype(np.float32)),
        faces=readonly(f.astype(np.int64)),
        part_of_vertex=readonly(part),
        part_names=names,
        source="proxy:revolved" if revolve else "proxy:extruded",
        symmetry="rot_y" if revolve else "none",
    )
