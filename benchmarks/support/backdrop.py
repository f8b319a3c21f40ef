"""A synthetic room behind a synthetic subject: the photo's gravity evidence (vertical lines) is known.

:func:`render_backdrop` ray-casts, per pixel (numpy, no GL), a simple room in a world frame whose +y is
down (gravity): a tiled floor ``y = floor_y`` (grey checker, 0.5 m tiles), two side walls ``x = -3`` and
``x = +3`` and a back wall ``z = +4`` (2.8 m high), with vertical panel edges every 0.6 - 1.0 m, a door
frame on the back wall and a skirting board where the walls meet the floor; Lambert shading; colours
drawn from ``seed``. A camera 2.5 - 5 m in front of the origin (z < 0) looking along +z sees the walls
behind a subject standing at the origin. Rays that hit nothing get a ceiling colour. The person's and
the object's silhouettes are painted flat over the room, then mild noise is added.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BACK_WALL_Z", "SIDE_WALL_X", "TILE", "WALL_HEIGHT", "render_backdrop"]

SIDE_WALL_X = 3.0  # m, side walls at x = -3 and x = +3
BACK_WALL_Z = 4.0  # m, back wall at z = +4
FRONT_Z = -8.0  # m, the side walls end here (behind a camera at z = -4)
WALL_HEIGHT = 2.8  # m above the floor
TILE = 0.5  # m, floor tiles
SKIRTING = 0.1  # m, skirting board height
PANEL_LINE = 0.04  # m, width of a panel edge
DOOR_W, DOOR_H, DOOR_FRAME = 0.9, 2.05, 0.08  # m
NOISE_SIGMA = 2.0  # grey levels


def _wall_texture(s: np.ndarray, hgt: np.ndarray, base: np.ndarray, panel: float, offset: float,
                  skirting: np.ndarray) -> np.ndarray:  # fmt: skip
    """(N, 3) colours of wall points at horizontal coordinate ``s`` and height ``hgt`` above the floor."""
    q = (s - offset) / panel
    k = np.floor(q)
    dist = np.abs(q - np.round(q)) * panel  # metres to the nearest panel edge
    col = np.repeat(base[None], len(s), axis=0)
    col *= np.where((k % 2) == 0, 1.0, 0.86)[:, None]  # alternate panels: a contrast edge at each seam
    col[dist < 0.5 * PANEL_LINE] = base * 0.42
    col[hgt < SKIRTING] = skirting
    return col


def render_backdrop(camera, world_to_camera: np.ndarray, floor_y: float, person_mask: np.ndarray | None = None,
                    object_mask: np.ndarray | None = None, seed: int = 0) -> np.ndarray:  # fmt: skip
    """(H, W, 3) uint8 RGB image of the room seen by ``camera``.

    ``camera``: :class:`hoirecon.types.CameraIntrinsics` (``fx, fy, cx, cy, width, height``);
    ``world_to_camera``: (3, 4) ``[R | t]``, ``x_cam = R x_world + t``, world +y down (gravity);
    ``floor_y``: the floor plane's y in world metres; ``person_mask`` / ``object_mask``: (H, W) bool
    silhouettes painted flat (skin, and a colour from ``seed``) over the room; ``seed``: colours, panel
    widths, the door's place and the noise."""
    rng = np.random.default_rng(seed)
    W, H = int(camera.width), int(camera.height)
    P = np.asarray(world_to_camera, np.float64).reshape(3, 4)
    R, t = P[:, :3], P[:, 3]
    C = -R.T @ t  # camera centre, world
    u = (np.arange(W, dtype=np.float64) + 0.5 - camera.cx) / camera.fx
    v = (np.arange(H, dtype=np.float64) + 0.5 - camera.cy) / camera.fy
    uu, vv = np.meshgrid(u, v)
    d = np.stack([uu.ravel(), vv.ravel(), np.ones(H * W)], axis=1) @ R  # (N, 3) world directions (R^T d)
    N = len(d)
    top = floor_y - WALL_HEIGHT
    X, Z = SIDE_WALL_X, BACK_WALL_Z

    def plane(axis: int, value: float) -> np.ndarray:
        """(N,) ray parameter of the hit on the plane ``world[axis] = value`` (inf: none ahead)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            tt = (value - C[axis]) / d[:, axis]
        tt[~np.isfinite(tt) | (tt <= 1e-6)] = np.inf
        return tt

    def within(tt: np.ndarray, axis: int, lo: float, hi: float) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            q = C[axis] + tt * d[:, axis]
        return (q >= lo) & (q <= hi)

    ts = np.empty((N, 4))
    ts[:, 0] = plane(1, floor_y)
    for k, x_wall in ((1, -X), (2, X)):
        tt = plane(0, x_wall)
        tt[~(within(tt, 1, top, floor_y + 1e-9) & within(tt, 2, FRONT_Z, Z))] = np.inf
        ts[:, k] = tt
    tt = plane(2, Z)
    tt[~(within(tt, 1, top, floor_y + 1e-9) & within(tt, 0, -X, X))] = np.inf
    ts[:, 3] = tt
    which = np.argmin(ts, axis=1)
    tmin = ts[np.arange(N), which]
    which[~np.isfinite(tmin)] = -1
    p = C[None] + np.where(np.isfinite(tmin), tmin, 0.0)[:, None] * d

    # colours
    ceiling = rng.uniform(0.88, 0.96) * np.array([1.0, 0.99, 0.97])
    col = np.repeat(ceiling[None], N, axis=0)
    grey_a, grey_b = rng.uniform(0.30, 0.42), rng.uniform(0.62, 0.75)
    tint = 1.0 + rng.uniform(-0.04, 0.04, 3)
    skirting = rng.uniform(0.15, 0.9) * np.ones(3)
    normals = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    light = np.array([0.35, -1.0, -0.6])
    light /= np.linalg.norm(light)

    m = which == 0  # floor: checker, its contrast fading where a pixel covers a large part of a tile
    if m.any():
        fx, fz = p[m, 0], p[m, 2]
        parity = (np.floor(fx / TILE) + np.floor(fz / TILE)) % 2
        dist = tmin[m] * np.linalg.norm(d[m], axis=1)
        cos_inc = np.abs(d[m, 1]) / np.linalg.norm(d[m], axis=1)
        footprint = dist / (min(camera.fx, camera.fy) * np.maximum(cos_inc, 1e-3)) / TILE
        contrast = np.clip(1.25 - 2.5 * footprint, 0.0, 1.0)
        mean = 0.5 * (grey_a + grey_b)
        g = mean + contrast * np.where(parity == 0, grey_a - mean, grey_b - mean)
        col[m] = g[:, None] * tint
    walls = {k: (rng.uniform(0.45, 0.85) * (1.0 + rng.uniform(-0.12, 0.12, 3)), rng.uniform(0.6, 1.0),
                 rng.uniform(0.0, 1.0)) for k in (1, 2, 3)}  # fmt: skip
    x0 = rng.uniform(-X + 0.6, X - 0.6 - DOOR_W)  # the door on the back wall
    leaf = rng.uniform(0.25, 0.6) * np.array([1.0, 0.8, 0.6])
    frame = rng.uniform(0.85, 0.95) * np.ones(3)
    obj_colour = rng.uniform(40.0, 220.0, 3)
    for k, s_axis in ((1, 2), (2, 2), (3, 0)):
        m = which == k
        if not m.any():
            continue
        base, panel, offset = walls[k]
        offset *= panel
        hgt = floor_y - p[m, 1]
        c = _wall_texture(p[m, s_axis], hgt, base, panel, offset, skirting)
        if k == 3:  # a door on the back wall: frame, then the leaf
            s = p[m, 0]
            in_frame = (s >= x0 - DOOR_FRAME) & (s <= x0 + DOOR_W + DOOR_FRAME) & (hgt <= DOOR_H + DOOR_FRAME)
            in_leaf = (s >= x0) & (s <= x0 + DOOR_W) & (hgt <= DOOR_H)
            c[in_frame] = frame
            c[in_leaf] = leaf
        col[m] = c
    lit = which >= 0
    shade = 0.55 + 0.45 * np.clip(normals[which[lit]] @ light, 0.0, 1.0)
    shade *= 1.0 / (1.0 + 0.015 * tmin[lit] * np.linalg.norm(d[lit], axis=1))  # mild falloff with distance
    col[lit] *= shade[:, None]
    img = col.reshape(H, W, 3) * 255.0

    if person_mask is not None:
        img[np.asarray(person_mask, bool)] = np.array([224.0, 172.0, 140.0])
    if object_mask is not None:
        img[np.asarray(object_mask, bool)] = obj_colour
    img += NOISE_SIGMA * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)
