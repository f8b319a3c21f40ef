"""Look at results without a 3D program: a turntable of the scene and an ``index.html`` per folder.

Turntable
---------
:func:`render_turntable` ray casts the meshes of ``scene.glb`` (open3d ``RaycastingScene``: CPU, no
window or GL context) from ``views`` azimuths around a vertical axis through the centre of the scene's
bounding box, from ``elevation_deg`` above, with a pinhole of ``fov_deg``; each pixel's colour is the hit
triangle's interpolated vertex colour times a Lambert term ``0.35 + 0.65 * |n . view|`` over a light grey
background. Without a floor the axis is glTF +Y (the photo's up). With a floor (``floor=(point, normal)``,
glTF frame; :func:`write_turntable` reads it from ``params.json``, camera frame, and converts it with
:func:`hoirecon.geometry.frames.camera_to_gltf`) the axis is the floor normal, i.e. gravity: the views
turn about it, the elevation is measured from the floor plane and image up is the normal, so the floor
stays level and a tilted body or a leaning chair shows as tilted. The floor is drawn analytically (each
pixel's ray meets the plane; nothing is added to the meshes): a light disc of radius ``1.5 x`` the scene's
horizontal extent (twice the largest distance of a vertex from the axis; at least 1.5 m) around the axis's
foot on the plane, with darker grid lines every 0.5 m
(about 1-2 px wide, from the screen-space footprint of the plane coordinates), its outer 15 % fading
into the background. Where the plane is in front of a mesh it is blended at 70 % opacity, so parts
below the floor (penetrations) stay visible but look veiled. Without a floor (no ``floor`` in
``params.json``, ``null``, or no readable ``params.json``) the frames are exactly as before floors existed.
:func:`write_turntable` writes ``turntable.gif`` (looping animation) and ``turntable.png`` (the frames
side by side) into a result folder.

Index
-----
:func:`write_index` writes ``index.html`` into a result folder (one reconstruction) or a batch folder
(one card per image folder: overlay thumbnail, turntable, status, object category, contact distance,
penetration, silhouette IoU, body height, seconds, the error of a failed image, links to every file; the
batch's ``summary*.json`` numbers at the top). All text is HTML-escaped and links are relative, so the
folder can be moved or served as it is.

Interactive viewer
------------------
Every card with a ``scene.glb`` gets an orbitable 3D view (three.js, vendored as one classic script,
``hoirecon/data/viewer/viewer.js``, built by ``scripts/viewer/build.sh``; copied to ``viewer.js`` beside
the page). Browsers with default settings load neither ES modules nor ``fetch()``-ed local files from
``file://``, so the GLB travels as ``scene.glb.js`` beside it (:data:`SCENE_SCRIPT`: one call
``hoireconScene(key, "<base64 of scene.glb>")``), a classic script the page adds on demand. A single
reconstruction's page opens its viewer at once; a batch page opens one when its card's button is
pressed and closes the oldest beyond 8 open ones (browsers allow about 16 WebGL contexts). The view
starts at the photo's camera (the GLB's ``photo_camera``), shows the vertex colours (contacts) and, for
the world frame, a 0.5 m grid on the floor (Y = 0).
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from hoirecon import fsutil
from hoirecon.geometry.frames import camera_to_gltf, transform_points
from hoirecon.geometry.raycast import raycasting_scene

__all__ = ["SCENE_SCRIPT", "TURNTABLE_GIF", "TURNTABLE_PNG", "VIEWER_JS", "load_scene_meshes", "read_floor",
           "render_turntable", "result_folders", "write_index", "write_turntable"]  # fmt: skip

TURNTABLE_GIF = "turntable.gif"
TURNTABLE_PNG = "turntable.png"
SCENE_SCRIPT = "scene.glb.js"
VIEWER_JS = "viewer.js"
_BACKGROUND = np.array([0.93, 0.93, 0.93], np.float32)
_FLOOR = np.array([0.80, 0.79, 0.75], np.float32)  # light warm grey, darker than the background
_GRID = np.array([0.50, 0.49, 0.46], np.float32)
_GRID_STEP_M = 0.5
_FLOOR_OVER_MESH = 0.7  # floor opacity where a mesh lies behind (below) the plane
_FLOOR_MIN_RADIUS_M = 1.5
_FLOOR_RADIUS_SCALE = 1.5  # disc radius = this x the scene's horizontal extent (footprint diameter)
_FLOOR_FADE = 0.15  # outer fraction of the disc fading into the background
_Y_UP = np.array([0.0, 1.0, 0.0])

# (name, vertices (V, 3) glTF frame, faces (F, 3), colours (V, 3) float 0..1)
SceneMesh = tuple[str, np.ndarray, np.ndarray, np.ndarray]


def load_scene_meshes(glb_path: str | os.PathLike[str]) -> list[SceneMesh]:
    """The meshes of a GLB (node transforms applied), sorted by name, with their vertex colours
    (``COLOR_0``; grey when absent). Read with trimesh."""
    import trimesh

    scene = trimesh.load(os.fspath(glb_path), force="scene", process=False)
    out: list[SceneMesh] = []
    for node in scene.graph.nodes_geometry:
        transform, geom_name = scene.graph[node]
        mesh = scene.geometry[geom_name]
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            continue
        v = np.asarray(mesh.vertices, np.float64)
        T = np.asarray(transform, np.float64)
        v = v @ T[:3, :3].T + T[:3, 3]
        colors = None
        vis = mesh.visual
        attrs = getattr(vis, "vertex_attributes", None) or {}
        if "color" in attrs and len(attrs["color"]) == len(v):
            colors = np.asarray(attrs["color"])
        elif getattr(vis, "kind", None) == "vertex":
            colors = np.asarray(vis.vertex_colors)
        if colors is None:
            c = np.full((len(v), 3), 0.7, np.float32)
        else:
            c = colors[:, :3].astype(np.float32)
            c = c / 255.0 if colors.dtype == np.uint8 or c.max() > 1.0 else c
        out.append((str(node), v.astype(np.float32), np.asarray(mesh.faces, np.int64), c))
    return sorted(out, key=lambda m: m[0])


def _pinhole_rays(eye: np.ndarray, target: np.ndarray, fov_deg: float, size: int,
                  world_up: np.ndarray = _Y_UP) -> np.ndarray:  # fmt: skip
    """(size * size, 6) float32 rays (origin, unit direction), row-major from the top-left pixel; image
    right is ``forward x up`` and image up is ``world_up`` (default +Y) as seen from ``eye``."""
    fwd = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(fwd, world_up)
    right = right / (np.linalg.norm(right) + 1e-12)
    up = np.cross(right, fwd)
    t = math.tan(math.radians(fov_deg) / 2.0)
    s = (np.arange(size, dtype=np.float64) + 0.5) / size * 2.0 - 1.0
    d = fwd[None, None] + t * s[None, :, None] * right[None, None] - t * s[:, None, None] * up[None, None]
    d = d.reshape(-1, 3)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    o = np.broadcast_to(eye, d.shape)
    return np.ascontiguousarray(np.concatenate([o, d], axis=1), dtype=np.float32)


def _floor_frame(floor: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(point, unit normal) float64 of a usable floor, else None (missing, wrong shape, non-finite, zero)."""
    if floor is None:
        return None
    try:
        point = np.asarray(floor[0], np.float64).reshape(3)
        normal = np.asarray(floor[1], np.float64).reshape(3)
    except (TypeError, ValueError, IndexError):
        return None
    ln = float(np.linalg.norm(normal))
    if not (np.all(np.isfinite(point)) and math.isfinite(ln) and ln > 1e-9):
        return None
    return point, normal / ln


def _horizontal_basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(e0, e1): unit vectors spanning the plane normal to ``up``; e0 is glTF +Z (toward the photo's camera)
    projected onto it, e1 = up x e0 (glTF +X when up is +Y)."""
    for ref in (np.array([0.0, 0.0, 1.0]), np.array([0.0, -1.0, 0.0])):  # +Z, else (up along Z) -Y
        e0 = ref - float(ref @ up) * up
        ln = float(np.linalg.norm(e0))
        if ln > 1e-6:
            e0 = e0 / ln
            return e0, np.cross(up, e0)
    raise ValueError("degenerate up vector")  # unreachable for a unit up


def _draw_floor(img: np.ndarray, rays: np.ndarray, t_mesh: np.ndarray, size: int, point: np.ndarray,
                up: np.ndarray, foot: np.ndarray, e0: np.ndarray, e1: np.ndarray, disc_r: float) -> None:  # fmt: skip
    """Blend the floor plane (through ``point``, normal ``up``) into ``img`` ((size * size, 3) float32) in
    place: a disc of radius ``disc_r`` around ``foot`` with grid lines every ``_GRID_STEP_M`` along e0/e1,
    opaque over the background, ``_FLOOR_OVER_MESH`` over meshes behind it, hidden behind meshes in front.
    ``t_mesh``: each ray's mesh hit distance (inf for a miss)."""
    o = rays[:, :3].astype(np.float64)
    d = rays[:, 3:].astype(np.float64)
    denom = d @ up
    with np.errstate(divide="ignore", invalid="ignore"):
        t = ((point - o) @ up) / denom
    t = np.where(np.abs(denom) > 1e-9, t, np.inf)
    on = np.isfinite(t) & (t > 0.0)
    if not on.any():
        return
    q = o + np.where(on, t, 0.0)[:, None] * d - foot  # plane hit relative to the foot point
    a, b = q @ e1, q @ e0
    r = np.hypot(a, b)
    on &= r < disc_r
    if not on.any():
        return
    # grid lines: distance (in px) to the nearest line, from the screen-space footprint of (a, b)
    alpha_line = np.zeros(len(t))
    for c in (a, b):
        g = np.where(on, c, np.nan).reshape(size, size)
        gy, gx = np.gradient(g)
        fw = (np.abs(gx) + np.abs(gy)).reshape(-1)  # metres per pixel along this coordinate
        dist = np.abs(c / _GRID_STEP_M - np.round(c / _GRID_STEP_M)) * _GRID_STEP_M
        with np.errstate(divide="ignore", invalid="ignore"):
            px = dist / fw
            # lines about 1-2 px wide; fade the grid where lines are under ~4 px apart (far, grazing)
            lin = np.clip(1.25 - px, 0.0, 1.0) * np.clip(2.0 - 4.0 * fw / _GRID_STEP_M, 0.0, 1.0)
        alpha_line = np.maximum(alpha_line, np.nan_to_num(lin, nan=0.0))
    colour = _FLOOR[None] + alpha_line[:, None].astype(np.float32) * (_GRID - _FLOOR)[None]
    alpha = np.clip((disc_r - r) / (_FLOOR_FADE * disc_r), 0.0, 1.0)
    alpha = np.where(on & (t < t_mesh), alpha, 0.0)
    alpha = np.where(np.isfinite(t_mesh), _FLOOR_OVER_MESH * alpha, alpha).astype(np.float32)
    sel = np.flatnonzero(alpha > 0.0)
    img[sel] = (1.0 - alpha[sel, None]) * img[sel] + alpha[sel, None] * colour[sel]


def render_turntable(meshes: Sequence[SceneMesh], views: int = 8, size: int = 256, elevation_deg: float = 15.0,
                     fov_deg: float = 35.0,
                     floor: tuple[np.ndarray, np.ndarray] | None = None) -> list[np.ndarray]:  # fmt: skip
    """``views`` (size, size, 3) uint8 frames of ``meshes`` (glTF frame, +Y up) from azimuths
    0, 360/views, ... degrees; azimuth 0 looks from +Z (the photo's camera side).

    ``floor``: ``(point, normal)`` of the floor plane in the meshes' glTF frame, ``normal`` pointing up
    (any length). Given, the views turn about the normal (through the bounding-box centre), the elevation
    is measured from the plane, image up is the normal, and the floor disc with its 0.5 m grid is drawn
    (see the module docstring). None (or unusable: wrong shape, non-finite, zero normal): turn about +Y,
    no floor."""
    import open3d as o3d

    if not meshes:
        raise ValueError("no meshes to render")
    tri_col, tri_nrm, offsets = [], [], []
    n = 0
    for _, v, f, c in meshes:
        v = np.ascontiguousarray(v, np.float32)
        tri = v[f].astype(np.float64)
        fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        ln = np.linalg.norm(fn, axis=1, keepdims=True)
        tri_nrm.append((fn / np.where(ln > 0, ln, 1.0)).astype(np.float32))
        tri_col.append(np.clip(c, 0.0, 1.0)[f])
        offsets.append(n)
        n += len(f)
    geoms = [(m[1], m[2]) for m in meshes]
    scene = raycasting_scene(*geoms[0], *geoms[1:])
    tri_nrm_all, tri_col_all = np.concatenate(tri_nrm), np.concatenate(tri_col)
    offs = np.asarray(offsets, np.int64)

    allv = np.concatenate([m[1] for m in meshes]).astype(np.float64)
    lo, hi = allv.min(0), allv.max(0)
    centre = 0.5 * (lo + hi)
    radius = max(1e-3, 0.5 * float(np.linalg.norm(hi - lo)))
    dist = 1.08 * radius / math.sin(math.radians(fov_deg) / 2.0)
    el = math.radians(elevation_deg)
    plane = _floor_frame(floor)
    if plane is not None:
        fpoint, up = plane
        e0, e1 = _horizontal_basis(up)
        foot = centre - float((centre - fpoint) @ up) * up
        rel = allv - centre
        horiz = float(np.sqrt(np.max((rel @ e0) ** 2 + (rel @ e1) ** 2)))  # farthest vertex from the axis
        disc_r = max(_FLOOR_MIN_RADIUS_M, _FLOOR_RADIUS_SCALE * 2.0 * horiz)
    frames = []
    for k in range(views):
        az = 2.0 * math.pi * k / views
        if plane is None:
            eye = centre + dist * np.array([math.sin(az) * math.cos(el), math.sin(el), math.cos(az) * math.cos(el)])
            rays = _pinhole_rays(eye, centre, fov_deg, size)
        else:
            eye = centre + dist * (math.cos(el) * (math.sin(az) * e1 + math.cos(az) * e0) + math.sin(el) * up)
            rays = _pinhole_rays(eye, centre, fov_deg, size, world_up=up)
        res = scene.cast_rays(o3d.core.Tensor(rays))
        geom = res["geometry_ids"].numpy().reshape(-1)
        img = np.broadcast_to(_BACKGROUND, (size * size, 3)).copy()
        hit = np.flatnonzero(geom != o3d.t.geometry.RaycastingScene.INVALID_ID)
        if len(hit):
            face = offs[geom[hit].astype(np.int64)] + res["primitive_ids"].numpy().reshape(-1)[hit].astype(np.int64)
            uv = res["primitive_uvs"].numpy().reshape(-1, 2)[hit]
            tc = tri_col_all[face]
            rgb = (1.0 - uv[:, :1] - uv[:, 1:]) * tc[:, 0] + uv[:, :1] * tc[:, 1] + uv[:, 1:] * tc[:, 2]
            d = rays[hit, 3:]
            d = d / np.linalg.norm(d, axis=1, keepdims=True)
            lam = 0.35 + 0.65 * np.abs(np.einsum("ij,ij->i", tri_nrm_all[face], d))
            img[hit] = np.clip(rgb * lam[:, None], 0.0, 1.0)
        if plane is not None:
            t_mesh = np.full(size * size, np.inf)
            t_mesh[hit] = res["t_hit"].numpy().reshape(-1)[hit]
            _draw_floor(img, rays, t_mesh, size, fpoint, up, foot, e0, e1, disc_r)
        frames.append(np.round(img.reshape(size, size, 3) * 255.0).astype(np.uint8))
    return frames


def read_floor(result_dir: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """``params.json``'s ``floor`` (camera frame) as ``(point, unit normal)`` in the frame of
    ``scene.glb`` (``frames.camera_to_export``; the glTF camera frame for files without it); None when the file is missing or unreadable, ``floor`` is absent or null, or its
    ``point``/``normal`` are not three finite numbers (normal non-zero)."""
    params = _read_json(Path(result_dir) / "params.json")
    fl = params.get("floor") if isinstance(params, dict) else None
    if not isinstance(fl, dict):
        return None
    try:
        plane = _floor_frame((fl["point"], fl["normal"]))
    except (KeyError, TypeError):
        return None
    if plane is None:
        return None
    T = (params.get("frames") or {}).get("camera_to_export")
    try:
        T = np.asarray(T, np.float64) if T is not None else None
    except (TypeError, ValueError):
        T = None
    if T is None or T.shape != (4, 4) or not np.all(np.isfinite(T)):  # files before --frame: the glTF camera frame
        return camera_to_gltf(plane[0][None])[0], camera_to_gltf(plane[1][None])[0]
    return transform_points(T, plane[0][None])[0], T[:3, :3] @ plane[1]


def write_turntable(result_dir: str | os.PathLike[str], views: int = 8, size: int = 256) -> tuple[Path, Path]:
    """Render ``result_dir/scene.glb`` and write ``turntable.gif`` and ``turntable.png`` (atomically).
    With a ``floor`` in ``result_dir/params.json`` (:func:`read_floor`) the turntable turns about it and
    draws it; without one (or without a readable ``params.json``) it turns about glTF +Y, no floor."""
    from PIL import Image

    folder = Path(result_dir)
    floor = read_floor(folder)
    frames = render_turntable(load_scene_meshes(folder / "scene.glb"), views=views, size=size, floor=floor)
    gif, strip = folder / TURNTABLE_GIF, folder / TURNTABLE_PNG
    pil = [Image.fromarray(f) for f in frames]
    with fsutil.atomic_path(gif) as tmp:
        pil[0].save(tmp, format="GIF", save_all=True, append_images=pil[1:], duration=250, loop=0)
    with fsutil.atomic_path(strip) as tmp:
        Image.fromarray(np.concatenate(frames, axis=1)).save(tmp, format="PNG")
    return gif, strip


# --------------------------------------------------------------------------------------------- index


def _read_json(p: Path) -> Any:
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_result(folder: Path) -> bool:
    return (folder / "params.json").is_file() or (folder / "error.txt").is_file() or (folder / "done").is_file()


def result_folders(root: str | os.PathLike[str]) -> list[Path]:
    """``root`` itself when it is one result folder, else its sub-folders that are (sorted by name)."""
    root = Path(root)
    if _is_result(root):
        return [root]
    return sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and _is_result(p)),
                  key=lambda p: p.name)  # fmt: skip


def _fmt(x: Any, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
    try:
        v = float(x) * scale
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    return f"{v:.{digits}f}{unit}"


def _card(folder: Path, link_prefix: str) -> tuple[str, str]:
    """(status, HTML of one result card)."""
    e = html.escape
    done = _read_json(folder / "done") if (folder / "done").is_file() else None
    params = _read_json(folder / "params.json") if (folder / "params.json").is_file() else None
    err = None
    if (folder / "error.txt").is_file():
        try:
            err = (folder / "error.txt").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            err = "error.txt unreadable"
    if err is not None and not done:
        status = "failed"
    elif params is not None:
        status = "ok"
    else:
        status = "incomplete"

    def href(name: str) -> str:
        return f"{link_prefix}{quote(name)}"

    rows: list[tuple[str, str]] = []
    if params:
        losses = params.get("losses") or {}
        obj = params.get("object") or {}
        body = params.get("body") or {}
        rows += [
            ("object", e(str(obj.get("category", "–")))),
            ("label", e(str(obj.get("label", "–")))),
            ("interaction", e(_interaction_text((params.get("contacts") or {}).get("interaction")))),
            ("contact distance", _fmt(losses.get("contact_distance_m"), 100, 1, " cm")),
            ("max penetration", _fmt(losses.get("penetration_max_m"), 100, 1, " cm")),
            ("silhouette IoU", _fmt(losses.get("silhouette_iou"), 1, 2)),
            ("body height", _fmt(body.get("height_m"), 1, 2, " m")),
            ("object size", _fmt(obj.get("size_m"), 1, 2, " m")),
        ]
        t = params.get("timings_s") or {}
        secs = (done or {}).get("seconds") or (sum(float(v) for v in t.values() if isinstance(v, (int, float))) or None)
        rows.append(("seconds", _fmt(secs, 1, 1, " s")))
        src = (params.get("image") or {}).get("path")
        if src:
            rows.append(("image", e(str(src))))
    pics = ""
    if (folder / "overlay.png").is_file():
        pics += f'<a href="{href("overlay.png")}"><img loading="lazy" src="{href("overlay.png")}" alt="overlay"></a>'
    if (folder / TURNTABLE_GIF).is_file():
        pics += f'<a href="{href(TURNTABLE_GIF)}"><img loading="lazy" src="{href(TURNTABLE_GIF)}" alt="turntable"></a>'
    viewer = ""
    if (folder / SCENE_SCRIPT).is_file():
        floor = ((params or {}).get("frames") or {}).get("export") == "world"
        viewer = (
            f'<div class="viewer" data-src="{e(href(SCENE_SCRIPT))}" data-key="{e(folder.name)}" '
            f'data-floor="{int(floor)}"><button type="button">orbit in 3D</button></div>'
            '<p class="hint">drag: orbit · right-drag: pan · wheel: zoom; starts at the photo\'s camera</p>'
        )
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    links = " ".join(f'<a href="{href(n)}">{e(n)}</a>' for n in files)
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    err_html = f'<p class="err">{e(err)}</p>' if err else ""
    card = (
        f'<div class="card {status}" id="{e(folder.name)}"><h2>{e(folder.name)} <span class="badge">{status}</span></h2>'
        f'<div class="pics">{pics}</div>{viewer}{err_html}<table>{table}</table><p class="files">{links}</p></div>'
    )
    return status, card


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
.grid{display:flex;flex-wrap:wrap;gap:1em}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em;width:520px}
.card h2{font-size:1em;margin:.2em 0 .5em;word-break:break-all}
.badge{font-size:.8em;padding:.1em .5em;border-radius:3px;background:#ccc}
.ok .badge{background:#c8f0c8}.failed .badge{background:#f6c4c4}.incomplete .badge{background:#f3e2b3}
.pics img{width:250px;height:250px;object-fit:contain;background:#eee;margin-right:4px}
table{border-collapse:collapse;font-size:.9em}th{text-align:left;padding-right:1em;font-weight:normal;color:#666}
.err{color:#a00;font-family:monospace;word-break:break-word}.files{font-size:.8em}.files a{margin-right:.5em}
.summary td,.summary th{padding:.1em .8em .1em 0}
.viewer{width:504px;height:40px;margin:.4em 0;position:relative}
.viewer.open{height:380px}.viewer.open button{display:none}.viewer canvas{display:block;border-radius:4px}
.viewer .msg{color:#a00;font-family:monospace}.hint{font-size:.75em;color:#777;margin:0 0 .4em}
.single .card{width:auto;max-width:1100px}.single .viewer{width:100%;max-width:1000px}.single .viewer.open{height:640px}
"""

# Opens the viewers (window.HoireconViewer from viewer.js); records errors in <body data-viewer-errors>
# and the number of scenes shown in <body data-viewers-ready>, which the Chromium test reads.
_VIEWER_JS = """
(function(){
 var b=document.body,errs=[];b.dataset.viewersReady="0";
 function err(m){errs.push(String(m));b.dataset.viewerErrors=errs.join(" | ");}
 window.addEventListener("error",function(ev){err(ev.message);});
 var ce=console.error;console.error=function(){err([].join.call(arguments," "));ce.apply(console,arguments);};
 function start(el){
  if(!window.HoireconViewer){err("viewer.js did not load");return;}
  if(el.classList.contains("open"))return;
  el.classList.add("open");
  HoireconViewer.open(el,el.dataset.src,el.dataset.key,{floor:el.dataset.floor==="1",
   onready:function(v){var r=v.renderer.domElement.getBoundingClientRect();
    el.dataset.rect=[r.left+scrollX,r.top+scrollY,r.width,r.height].map(Math.round).join(",");
    b.dataset.viewersReady=String(+b.dataset.viewersReady+1);},
   onerror:function(e){err(e&&e.message||e);var m=document.createElement("p");m.className="msg";
    m.textContent="3D view failed: "+(e&&e.message||e);el.appendChild(m);}});
 }
 var els=[].slice.call(document.querySelectorAll(".viewer"));
 els.forEach(function(el){el.querySelector("button").addEventListener("click",function(){start(el);});});
 var want=decodeURIComponent(location.hash.slice(1));
 var hit=els.filter(function(el){return want&&el.dataset.key===want;});
 if(hit.length){hit[0].scrollIntoView();start(hit[0]);}
 else if(b.classList.contains("single")&&els.length)start(els[0]);
})();
"""


def _scene_script(folder: Path) -> Path | None:
    """Write ``folder/scene.glb.js`` (see the module docstring) when ``scene.glb`` is newer or it is
    missing; its path, or None without a ``scene.glb``."""
    import base64

    glb = folder / "scene.glb"
    out = folder / SCENE_SCRIPT
    if not glb.is_file():
        return None
    if out.is_file() and out.stat().st_mtime >= glb.stat().st_mtime:
        return out
    b64 = base64.b64encode(glb.read_bytes()).decode("ascii")
    fsutil.write_text(out, f"hoireconScene({json.dumps(folder.name)},\"{b64}\");\n")
    return out



def _summary_html(root: Path) -> str:
    e = html.escape
    parts = []
    for p in sorted(root.glob("summary*.json")):
        s = _read_json(p)
        if not isinstance(s, dict):
            continue
        c = s.get("counts") or {}
        rows = [
            ("images", c.get("images")), ("ok", c.get("ok")), ("failed", c.get("failed")),
            ("skipped (done before)", c.get("skipped")), ("engine", s.get("engine")), ("jobs", s.get("jobs")),
            ("wall time", _fmt(s.get("wall_seconds"), 1, 1, " s")),
            ("images per minute", _fmt(s.get("images_per_minute"), 1, 2)),
            ("peak memory per worker", _fmt(s.get("peak_rss_mb_max"), 1, 0, " MiB")),
            ("interrupted", s.get("interrupted")),
        ]  # fmt: skip
        table = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows if v is not None)
        csv_name = p.with_suffix(".csv").name
        parts.append(
            f'<h3><a href="{quote(p.name)}">{e(p.name)}</a> · <a href="{quote(csv_name)}">{e(csv_name)}</a></h3>'
            f'<table class="summary">{table}</table>'
        )
    return "".join(parts)


def write_index(root: str | os.PathLike[str], turntables: bool = True) -> Path:
    """Write ``root/index.html`` for one result folder or a batch folder (see the module docstring).

    ``turntables``: render ``turntable.gif``/``.png`` first for result folders that have ``scene.glb``
    but no turntable yet (a failure to render is noted on the card, not raised)."""
    root = Path(root)
    if not root.is_dir():
        from hoirecon.errors import InputError

        raise InputError(f"{root}: not a folder")
    folders = result_folders(root)
    if turntables:
        for f in folders:
            if (f / "scene.glb").is_file() and not (f / TURNTABLE_GIF).is_file():
                try:
                    write_turntable(f)
                except Exception:  # noqa: BLE001, S110 - the index still lists the folder
                    pass
    single = folders == [root]
    for f in folders:
        _scene_script(f)
    viewer_src = Path(__file__).resolve().parent.parent / "data" / "viewer" / VIEWER_JS
    if any((f / SCENE_SCRIPT).is_file() for f in folders):
        src = viewer_src.read_bytes()
        dst = root / VIEWER_JS
        if not dst.is_file() or dst.read_bytes() != src:
            fsutil.write_bytes(dst, src)
    cards, counts = [], {"ok": 0, "failed": 0, "incomplete": 0}
    for f in folders:
        status, card = _card(f, "" if single else f"{quote(f.name)}/")
        counts[status] += 1
        cards.append(card)
    e = html.escape
    title = f"hoirecon: {root.resolve().name}"
    head = f"{len(folders)} result folder(s): {counts['ok']} ok, {counts['failed']} failed, {counts['incomplete']} incomplete"
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>{_CSS}</style></head>"
        f"<body class='{'single' if single else 'batch'}'><h1>{e(title)}</h1><p>{e(head)}</p>{_summary_html(root)}"
        f"<div class='grid'>{''.join(cards)}</div>"
        f"<script src='{VIEWER_JS}'></script><script>{_VIEWER_JS}</script></body></html>\n"
    )
    out = root / "index.html"
    fsutil.write_text(out, body)
    return out


def _interaction_text(inter) -> str:
    """``"sit (evidence 0.79; hand_on 0.07, ...)"`` from ``params.json`` ``contacts.interaction``."""
    if not isinstance(inter, dict) or not inter.get("mode"):
        return "–"
    others = [m for m in inter.get("modes", []) if isinstance(m, dict) and m.get("name") != inter["mode"]]
    mine = next((m for m in inter.get("modes", []) if isinstance(m, dict) and m.get("name") == inter["mode"]), {})
    tail = "; ".join(f"{m.get('name')} {float(m.get('evidence', 0)):.2f}" for m in others[:3])
    ev = f"evidence {float(mine.get('evidence', 0)):.2f}" if mine else str(inter.get("how", ""))
    return f"{inter['mode']} ({ev}{'; ' + tail if tail else ''}; {inter.get('how', '')})"
