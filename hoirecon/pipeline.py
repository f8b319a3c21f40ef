"""Chains the stages: image -> detections -> body -> object mesh -> contacts -> joint fit.

``Pipeline`` keeps the loaded models (the body model) so that a batch loads them once.
Every stage is timed; the seconds go to ``Reconstruction.timings``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np


from hoirecon.body.fit import fit_body
from hoirecon.config import CONFIG_VERSION, PipelineConfig, config_to_dict
from hoirecon.contact import infer_contacts, make_contact_source
from hoirecon.contact.modes import (choose_candidates, contact_consistency, fit_agreement, mode_facing, mode_pose,
                                    pick_mode, touching_parts)
from hoirecon.contact.priors import category_modes, category_prior
from hoirecon.errors import InputError, first_line
from hoirecon.fitting.joint import fit_object
from hoirecon.inputs import CheckedInputs, check_image_inputs
from hoirecon.perception.chain import DetectionChain
from hoirecon.quality import assess
from hoirecon.types import Box, Reconstruction, Skin


@dataclass(frozen=True)
class ReconstructOptions:
    """What the user asked for one image. ``object_box``: "x0,y0,x1,y1" or a list; None -> sidecar."""

    object_label: str | None = None
    object_box: str | list[float] | None = None
    object_mask: Path | None = None
    mesh: Path | None = None
    focal_px: float | None = None
    fov_deg: float | None = None
    interaction: str | None = None  # force this interaction mode (contacts.json) instead of choosing one
    object_size: float | None = None  # metres, the largest extent of a proxy object (a label no category matches)
    mesh_dirs: tuple[str, ...] = ()  # the user's mesh folders (--mesh-dir), before HOIRECON_MESH_DIRS


StageCallback = Callable[[str, "float | None"], None]


@contextmanager
def fixed_threads(n: int | None) -> Iterator[None]:
    """torch uses ``n`` intra-op threads inside the block (then the previous count again), so that a
    result never depends on the machine's cores or on how many batch workers share them (parallel
    reductions sum in a thread-dependent order). ``None``: leave torch's setting (CUDA: its kernels
    are not bit-reproducible anyway)."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def standing_height(model, body) -> float:
    """The fitted body's standing height, metres: its vertical extent in the model's rest pose with the
    fitted shape (a crouching or seated body is not short). The posed extent when the fit carries no
    model state."""
    state = getattr(body, "state", None)
    if state is None or model is None:
        return float(body.height_m)
    import torch

    dev = getattr(model, "device", "cpu")
    with torch.no_grad():
        pose = torch.zeros((1, *np.asarray(state.pose).shape), dtype=torch.float32, device=dev)
        shape = torch.as_tensor(np.asarray(state.shape, dtype=np.float32), device=dev)[None]
        v = model.forward(pose, shape).vertices[0]
    return float(v[:, 1].max() - v[:, 1].min())  # canonical frame: y is the body's vertical axis


def seed_everything(seed: int) -> None:
    """Seed every random source a stage may draw from: Python, NumPy's global state, torch (CPU and
    CUDA), OpenCV (GrabCut's GMM initialisation). Called at the start of every image."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    try:
        import cv2

        cv2.setRNGSeed(seed)
    except ImportError:  # pragma: no cover
        pass
    import torch

    torch.manual_seed(seed)


class Pipeline:
    """Reconstruct images one after another with the same loaded models."""

    def _resolve(self, label: str, options: ReconstructOptions):
        """``(LabelMatch, mesh-folder hits)``: the label against the user's mesh folders by name, the
        library by name, synonym or typo, the folders by embedding, the library by embedding, else a
        proxy (:mod:`hoirecon.objects.meshdir`). A hit's category is its sidecar's, else the one its
        label resolves to by name, synonym or typo, else ``proxy``."""
        from hoirecon import objects
        from hoirecon.objects import meshdir

        dirs = meshdir.mesh_dirs(list(options.mesh_dirs))
        entries = meshdir.scan(dirs, self.notice) if dirs else []
        hits = meshdir.match_mesh(label, entries, by_embedding=False) if entries else []
        if hits:  # a folder's file by name: the library (and its embedding model) is not asked
            lib = objects.LabelMatch(label, "proxy", hits[0][1])
        else:
            lib = objects.resolve_or_proxy(label)
            if entries and lib.how in ("embedding", "proxy"):
                hits = meshdir.match_mesh(label, entries)
            if not hits:
                return lib, []
        entry = hits[0][0]
        cat = entry.category
        if cat is None:
            own = objects.resolve_or_proxy(entry.label)
            cat = own.category if own.how in ("name", "synonym", "typo") else "proxy"
        return dataclasses.replace(lib, category=cat), [h for h in hits if (h[0].category or cat) == cat]

    def __init__(self, config: PipelineConfig = PipelineConfig(), notice: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.notice = notice
        self._body_model = None
        self._contact_source = None
        self.detection = DetectionChain(config.detection, device=config.device, notice=notice)

    @property
    def body_model(self):
        if self._body_model is None:
            from hoirecon.body import load_body_model

            c = self.config
            self._body_model = load_body_model(c.body_model, device=c.device, gender=c.gender, smplx_dir=c.smplx_dir)
        return self._body_model

    @property
    def contact_source(self):
        """The contact source (``hoirecon.contact.CONTACT_SOURCES[config.contact.source]``; its inputs
        are checked when it is made: the --contacts folder, the InteractVLM checkout and weights)."""
        if self._contact_source is None:
            self._contact_source = make_contact_source(self.config.contact, self.body_model)
        return self._contact_source

    def run(self, image_path: str | Path, options: ReconstructOptions = ReconstructOptions(),
            on_stage: StageCallback | None = None, checked: CheckedInputs | None = None) -> Reconstruction:
        """Run every stage on one image (nothing is written; see ``hoirecon.export.write_outputs``).

        ``checked``: the image's inputs already read by ``hoirecon.inputs.check_image_inputs`` (the
        CLI checks them before any model loads); else they are read here. ``on_stage(name, seconds)``
        is called when a stage starts (``seconds`` None) and when it ends.

        The photo is processed on a working copy whose longer side is at most
        ``config.working_max_side`` pixels (``hoirecon.photo.working_copy``); every random source is
        seeded from ``config.seed`` at the start, so one image gives the same result alone or anywhere
        in a batch."""
        timings: dict[str, float] = {}

        @contextmanager
        def stage(name: str) -> Iterator[None]:
            if on_stage:
                on_stage(name, None)
            t0 = time.perf_counter()
            yield
            timings[name] = round(time.perf_counter() - t0, 4)
            if on_stage:
                on_stage(name, timings[name])

        workers = fit_workers_default() if self.config.fit_workers is None else max(1, self.config.fit_workers)
        with fixed_threads(self.config.fit_threads if self.config.device == "cpu" else None):
            return self._run(Path(image_path), options, stage, timings, checked, workers)

    def _run(self, image_path: Path, options: ReconstructOptions, stage, timings: dict[str, float],
             checked: CheckedInputs | None, workers: int = 1) -> Reconstruction:
        from hoirecon import objects, photo

        seed_everything(self.config.seed)
        with stage("load"):
            if checked is None:
                checked = check_image_inputs(
                    image_path, object_label=options.object_label, object_box=options.object_box,
                    object_mask=options.object_mask, mesh=options.mesh, focal_px=options.focal_px,
                    fov_deg=options.fov_deg,
                )  # fmt: skip
            sidecar = checked.sidecar
            image = photo.working_copy(checked.image, self.config.working_max_side)
            s = image.scale
            label = checked.label
            # resolved once per image, before any model runs: a label no category matches gets a proxy
            resolved = self._resolve(label, options) if label else None
            forced = options.interaction or (sidecar.interaction if sidecar is not None else None)
            if forced and resolved is not None:
                category_prior(resolved[0].category, forced)  # an unknown mode fails here (InputError)
            box = photo.scale_box(checked.box, s) if checked.box is not None else None
            mask = photo.resize_mask(checked.mask, image.width, image.height) if checked.mask is not None else None
            if box is not None and checked.box_from == "mask" and mask is not None and mask.any():
                box = Box.from_mask(mask)
            person_box = photo.scale_box(checked.person_box, s) if checked.person_box is not None else None

        with stage("perception"):
            detections, label = self.detection.run(image, label=label, box=box, mask=mask, person_box=person_box)
            person, obj_det = detections.person, detections.object
            match, dir_hits = resolved if resolved is not None and label == checked.label else self._resolve(label, options)
            category = match.category
            if self.notice is not None and match.how in ("typo", "embedding", "proxy") and not dir_hits:
                self.notice(f"{image_path.name}: object {match.describe()}")
        props = objects.properties(category)
        with stage("body"):
            body = fit_body(self.body_model, person, image.camera, self.config.body_fit, occluders=obj_det.mask)
        with stage("ground"):
            body, gravity, ground = ground_stage(self.body_model, self.config, image, person, body, category, props.support,
                                                 occluders=obj_det.mask)
        with stage("object_mesh"):
            mesh, makes, make = None, [], None
            for entry, how, score in dir_hits if checked.mesh is None else ():  # the user's mesh folders
                try:
                    mesh = objects.load_user_mesh(entry.path, category, size_m=entry.size_m, up=entry.up,
                                                  parts=entry.parts)
                except InputError as err:
                    if self.notice is not None:
                        self.notice(f"mesh folder: skipped {entry.path.name}: {first_line(err)}")
                    continue
                match = dataclasses.replace(match, how=how, score=score, matched=str(entry.path))
                if self.notice is not None:
                    self.notice(f"{image_path.name}: object '{label}' -> {entry.path.name} ({how}, parts and modes of {category})")
                break
            if mesh is None and category == "proxy" and checked.mesh is None:
                from hoirecon.objects.proxy import proxy_mesh
                from hoirecon.perception.objects import ellipse_mask

                size = options.object_size or (objects.size_prior(match.nearest)[0] if match.nearest else props.size_m)
                mesh = proxy_mesh(obj_det.mask if obj_det.mask is not None and obj_det.mask.any()
                                  else ellipse_mask(obj_det.box, image.width, image.height), size)  # fmt: skip
            elif mesh is None:
                named = None
                if checked.mesh is None and self.config.fit.makes.enabled:  # the library's makes of the category
                    named = objects.variant_for_label(category, label)
                    makes = list(objects.variant_names(category)) if named is None else []
                    if named is not None:  # the label names the make: "office chair"
                        make = {"make": named, "how": "label", "mode": None, "makes": []}
                mesh = objects.build_mesh(category, named) if named else objects.object_mesh(category, checked.mesh)
            _, scale_sigma = objects.size_prior(category)

        def fit_mode(m: str, mesh, contacts):
            upright, g = mode_pose(category, m, props.upright, ground)
            return upright, fit_object(
                body, mesh, contacts, obj_det, person, image.camera,
                scale_sigma=scale_sigma, upright=upright, config=self.config.fit, device=self.config.device,
                body_model=self.body_model, ground=g, facing=mode_facing(category, m),
            )  # fmt: skip

        with stage("modes"):
            choice, candidates = choose_candidates(
                image, person, obj_det, body, None if gravity is None else gravity.up,
                body_posture(image, person, body, gravity), category, forced, self.config.contact.modes,
            )  # fmt: skip
        inferred: dict[tuple[str, str], tuple] = {}  # (mode, make) -> infer_contacts' answer, each inferred once

        def contacts_for(m: str, mesh):
            if (m, mesh.variant) not in inferred:
                inferred[m, mesh.variant] = infer_contacts(self.contact_source, image, detections, body, mesh, label, mode=m)
            return inferred[m, mesh.variant]

        def fit_make(m: str, mesh):
            contacts = contacts_for(m, mesh)[0]  # InputError: the mode's contacts cannot reach this make
            return lambda: fit_mode(m, mesh, contacts)[1]

        fits = {}
        if len(makes) > 1:
            with stage("object_make"):  # analysis by synthesis: the make whose fit explains the photo best
                mesh, make, fits[candidates[0]] = retrieve_make(
                    [objects.build_mesh(category, n) for n in makes], candidates[0], fit_make, category,
                    self.config.contact.modes, workers,
                )  # fmt: skip
        with stage("contacts"):
            found = {m: contacts_for(m, mesh) for m in candidates}
        with stage("fitting"):
            todo = [m for m in candidates if m not in fits]  # the chosen make's fit is its mode's fit already
            with fit_pool(workers) as pool:
                running = {m: pool.submit(lambda m=m: fit_mode(m, mesh, found[m][0])[1]) for m in todo}
                fits.update({m: f.result() for m, f in running.items()})
            uprights = {m: mode_pose(category, m, props.upright, ground)[0] for m in candidates}
            mc = self.config.contact.modes
            touching = {m: touching_parts(f, mc.touch_m) for m, f in fits.items()} if len(fits) > 1 else None
            choice = pick_mode(choice, {m: f.losses for m, f in fits.items()}, mc, touching, category_modes(category))
            fit = fits[choice.name]
            contacts, localization = found[choice.name]
        resolved = {
            "config_version": CONFIG_VERSION,
            "image": str(image_path),
            "object_label": label,
            "object_category": category,
            "object_upright": uprights[choice.name],
            "interaction": choice.name,
            "object_make": make,
            "label_match": {"how": match.how, "score": match.score, "matched": match.matched,
                            "nearest": match.nearest, "nearest_score": match.nearest_score},
            "object_box": photo.scale_box(obj_det.box, 1.0 / s).as_list(),
            "working_image": {"width": image.width, "height": image.height, "scale": s,
                              "max_side": self.config.working_max_side},
            "object_mask": str(checked.mask_path) if checked.mask_path else None,
            "mesh": str(checked.mesh) if checked.mesh else None,
            "camera": {"focal_px": image.original_camera().fx, "source": image.camera.source,
                       "fov_deg": options.fov_deg if options.fov_deg is not None else photo.DEFAULT_FOV_DEG},
            "sidecar": str(sidecar.path) if sidecar else None,
            "contacts_localization": localization.details,
            **config_to_dict(self.config),
        }  # fmt: skip
        quality = assess(fit.losses, standing_height(self.body_model, fit.body), fit.body.params)
        return Reconstruction(
            skin=body_skin(self.body_model, fit.body),
            quality=quality,
            image=image,
            detections=detections,
            fit=fit,
            contacts=contacts,
            config=resolved,
            timings=timings,
            contact_views=(localization.human_view_set(), localization.object_views),
            gravity=gravity,
            interaction=choice,
        )


#: a skin whose mesh differs from the fitted one by more than this (metres, any vertex) is not exported
SKIN_TOLERANCE_M = 0.005


def fit_workers_default() -> int:
    """How many joint fits run side by side when ``PipelineConfig.fit_workers`` is None: torch's thread
    count as the image starts (the machine's cores; in a batch, a worker's share of them)."""
    import torch

    return max(1, torch.get_num_threads())


class _Inline:
    """An executor that runs each job as it is submitted (one worker: no thread); a job's error is
    raised by ``submit`` itself, so nothing after it runs (as before fits ran side by side)."""

    def submit(self, fn: Callable[[], Any]) -> Future:
        done: Future = Future()
        done.set_result(fn())
        return done


@contextmanager
def fit_pool(workers: int) -> Iterator[Any]:
    """An executor for joint fits: ``submit(job)`` runs the callable ``job`` with up to ``workers`` at a
    time in threads (torch releases the GIL in its kernels) and returns its ``Future``, whose
    ``result()`` raises the job's error; one worker runs each job as it is submitted. Leaving the block
    on an error (or Ctrl-C) cancels the jobs not started and waits for the running ones. The jobs must
    not share mutable state: the joint fits read shared inputs only, draw from random generators of
    their own (the global torch seed that ``fit_object`` sets is never drawn from), keep the process's
    deterministic-algorithms setting on while any limb phase runs (``hoirecon.fitting.limbs``) and run
    with the image's fixed torch thread count, so the results are those of running them one after
    another."""
    if workers <= 1:
        yield _Inline()
        return
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hoirecon-fit")
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def retrieve_make(meshes: list, mode: str, fit: Callable, category: str, config,
                  workers: int = 1) -> tuple[Any, dict, Any]:  # fmt: skip
    """The object stage's retrieval among a category's makes (``objects.json`` ``variants``), by
    analysis by synthesis: each mesh of ``meshes`` is fitted with the interaction ``mode``: ``fit(mode,
    mesh)`` prepares it (its contacts: an ``InputError`` when the mode's contacts cannot reach the make)
    and returns a callable that runs the fit (the pipeline's joint fit, ``fit.makes``) -> ``FitResult``;
    the fits run side by side, ``workers`` at a time (:func:`fit_pool`). Each is scored as the modes
    are (:func:`hoirecon.contact.modes.fit_agreement`: its silhouette against the visible object mask,
    contact distance, penetration, x the contact consistency of the parts it touches), except that the
    contact distance counts beyond the best make's: the distance all the makes share says something
    about the mode or the body, not about which make the photo shows. The best wins, ties to the
    earlier (the category's own mesh first); a make for whose parts the mode has no contact pair
    (``InputError`` from ``fit``) is left out. ``config``: a ``ModeConfig``. Returns ``(mesh, record,
    its fit)``, the record as ``params.json`` ``object.make`` has it: ``{"make", "how", "mode",
    "makes": [{"name", "silhouette_iou", "contact_cm", "agreement", "consistency", "score"}]}``."""
    started = []
    with fit_pool(workers) as pool:  # each make's fit starts as soon as its contacts are inferred
        for mesh in meshes:  # a make the mode's contacts cannot reach (no part, no alias) is left out
            try:
                started.append((mesh, pool.submit(fit(mode, mesh))))
            except InputError:
                if mesh is meshes[0]:
                    raise
        kept, fits = [], []
        for mesh, running in started:
            try:
                fits.append(running.result())
                kept.append(mesh)
            except InputError:
                if mesh is meshes[0]:
                    raise
    meshes = kept
    gaps = [float(f.losses.get("contact_distance_m", float("nan"))) for f in fits]
    floor = min((g for g in gaps if math.isfinite(g)), default=0.0)
    rows = []
    for mesh, f, gap in zip(meshes, fits, gaps):
        agreement = fit_agreement({**f.losses, "contact_distance_m": gap - floor if math.isfinite(gap) else gap}, config)
        consistency = contact_consistency(category_prior(category, mode), touching_parts(f, config.touch_m), config)
        rows.append({"name": mesh.variant, "silhouette_iou": round(float(f.losses.get("silhouette_iou", 0.0)), 4),
                     "contact_cm": round(100 * gap, 2) if math.isfinite(gap) else None,
                     "agreement": round(agreement, 4), "consistency": round(consistency, 4),
                     "score": round(agreement * consistency, 4)})  # fmt: skip
    best = max(range(len(rows)), key=lambda i: (rows[i]["score"], -i))
    record = {"make": rows[best]["name"], "how": "analysis-by-synthesis", "mode": mode, "makes": rows}
    return meshes[best], record, fits[best]


def body_skin(body_model, body) -> Skin | None:
    """The skeleton as fitted (:class:`hoirecon.types.Skin`) when the body came from a model fit whose
    model offers ``skin`` and the skin's mesh is the fitted mesh (within :data:`SKIN_TOLERANCE_M`),
    else None (the GLB then holds a plain mesh)."""
    if body.state is None or not hasattr(body_model, "skin"):
        return None
    skin = body_model.skin(body.state)
    v = np.asarray(body.vertices, np.float64)
    if skin.vertices.shape != v.shape or float(np.abs(skin.vertices - v).max()) > SKIN_TOLERANCE_M:
        return None
    return skin


def ground_stage(body_model, config, image, person, body, category: str, support: str, occluders=None):
    """Gravity (``hoirecon.ground.estimate_gravity``), the body fit's gravity phase, and what the joint
    fit needs of the floor, as the pipeline runs them: ``(body, gravity, ground prior)``, the last two
    None when ``config.ground`` is off. ``config``: a PipelineConfig; ``image``: the ImageInput (its
    rgb and camera); ``support``: the category's ``objects.json`` support."""
    cfg = config.ground
    if not cfg.enabled:
        return body, None, None
    from hoirecon import ground as G
    from hoirecon.body.fit import targets_from_person

    tg = targets_from_person(person)
    seen = G.keypoints_seen(tg.weight, tg.xy, image.width, image.height)
    gravity = G.estimate_gravity(image.rgb, image.camera.K, person.mask, body.keypoints3d, seen, cfg)
    seated = any(p.get("body") == "buttocks" for p in category_prior(category).get("pairs", []))
    prior = G.body_prior(gravity, body.state, seen, cfg, seated_hint=seated)
    if prior is not None:
        body = fit_body(body_model, person, image.camera, config.body_fit, targets=tg, gravity=prior, occluders=occluders)
    return body, gravity, G.ground_prior(gravity, seen, support, cfg)


def body_posture(image, person, body, gravity) -> str:
    """The fitted body's posture name (``hoirecon.ground.posture``): the ground stage's, else read off
    the body's keypoints and the landmarks the photo shows."""
    if gravity is not None and gravity.posture is not None:
        return gravity.posture.name
    from hoirecon.body.fit import targets_from_person
    from hoirecon.ground import keypoints_seen
    from hoirecon.ground.posture import classify_posture

    tg = targets_from_person(person)
    return classify_posture(body.keypoints3d, keypoints_seen(tg.weight, tg.xy, image.width, image.height)).name
