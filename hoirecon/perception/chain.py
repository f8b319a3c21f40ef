"""Detection and segmentation chains, and the choice of the person and the object they interact with.

Backends: ``yolo`` (ultralytics instance segmentation: person and object boxes, masks, class names),
``sam`` (segment-anything, box-prompted object mask), ``mediapipe`` (person landmarks and mask; always
used for the landmarks the body fit needs) and ``grabcut`` (object mask inside a box).

``--detector auto`` uses YOLO when its weights are available (explicit path or the cache), and downloads
them on first use when it needs them (no object box or mask) and is not offline (``HOIRECON_OFFLINE=1``,
``--offline``); ``--detector yolo`` always may. Without them it falls back to MediaPipe alone with a one-line notice; ``--segmenter auto`` refines the object
mask with SAM when running on CUDA and its weights are available (on a CPU SAM's encoder costs about 40 s
per photo: ``--segmenter sam`` forces it), else keeps YOLO's mask, else GrabCut. User input always
wins: ``--object-box`` / ``--object-mask`` / a sidecar box skip object detection.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import cv2
import numpy as np

from hoirecon.config import DetectorConfig
from hoirecon.errors import HoireconError, InputError, MissingModelError, first_line
from hoirecon.types import Box, Detections, ImageInput, Instance, ObjectDetection, PersonDetection

DETECTORS = ("auto", "yolo", "mediapipe")
SEGMENTERS = ("auto", "sam", "yolo", "grabcut")
# MediaPipe landmarks that touch objects: wrists and hand points, hips, ankles, heels, toes.
_CONTACT_LANDMARKS = (15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 27, 28, 29, 30, 31, 32)


Notice = Callable[[str], None]


class DetectionChain:
    """Builds the backends once (lazily) and reuses them for every image of a run."""

    def __init__(self, config: DetectorConfig = DetectorConfig(), device: str = "cpu", notice: Notice | None = None):
        if config.detector not in DETECTORS:
            raise InputError(f"--detector must be one of {', '.join(DETECTORS)}, got '{config.detector}'")
        if config.segmenter not in SEGMENTERS:
            raise InputError(f"--segmenter must be one of {', '.join(SEGMENTERS)}, got '{config.segmenter}'")
        self.config = config
        self.device = device
        self.notice = notice or (lambda msg: None)
        self._yolo: Any = None
        self._sam: Any = None
        self._tried: set[tuple[str, bool]] = set()  # (backend, with download) tried
        self._yolo_problem: str | None = None
        self.notices: list[str] = []

    def _say(self, msg: str) -> None:
        self.notices.append(msg)
        self.notice(msg)

    def _weights(self, name: str, explicit: str | None, download: bool) -> tuple[Any, dict[str, str]]:
        """Resolve weights: explicit path, cache, and a download only when ``download`` (a backend the
        user asked for by name, or one ``auto`` needs) and not offline."""
        from hoirecon import registry

        path = registry.resolve(name, explicit, download=download, offline=self.config.offline)
        entry = registry.entries().get(name)
        sha = registry.sha256_of(path)
        if entry is not None and entry.sha256 and explicit is None:
            sha = entry.sha256
        return path, {"name": name if explicit is None else str(explicit), "sha256": sha}

    def yolo(self, needed: bool = False):
        """The YOLO backend, or None when it is not wanted or not available (auto). ``needed``: the image
        has no object box or mask, so ``auto`` may download the weights on first use."""
        c = self.config
        download = c.detector == "yolo" or needed
        tried = ("yolo", True) in self._tried or ("yolo", download) in self._tried
        if c.detector == "mediapipe" or self._yolo is not None or tried:
            return self._yolo
        self._tried.add(("yolo", download))
        try:
            from hoirecon.perception.yolo import YoloSegmenter

            path, w = self._weights(c.yolo_model, c.yolo_weights, download=download)
            self._yolo = YoloSegmenter(path, device=self.device, conf=c.yolo_conf, weights_name=w["name"], sha256=w["sha256"])
        except (MissingModelError, ImportError) as exc:
            if c.detector == "yolo":
                raise MissingModelError(f"--detector yolo: {first_line(exc)}") from exc
            self._yolo_problem = first_line(exc)
            self._say(f"YOLO not available ({first_line(exc)}); using MediaPipe for the person and your box for the object")
        return self._yolo

    def sam(self):
        c = self.config
        if c.segmenter in ("yolo", "grabcut") or ("sam", True) in self._tried:
            return self._sam
        self._tried.add(("sam", True))
        if c.segmenter == "auto" and not str(self.device).startswith("cuda"):
            # SAM ViT-B's image encoder takes about 26 s per photo on a 2-core CPU: auto uses it on CUDA only.
            self._say("SAM skipped on CPU (about 26 s per photo on 2 cores); pass --segmenter sam to use it anyway")
            return None
        try:
            from hoirecon.perception.sam import SamRefiner

            path, w = self._weights(c.sam_model, c.sam_weights, download=c.segmenter == "sam")
            model_type = c.sam_model.replace("sam_", "")
            self._sam = SamRefiner(path, model_type=model_type, device=self.device, weights_name=w["name"], sha256=w["sha256"])
        except (MissingModelError, ImportError) as exc:
            if c.segmenter == "sam":
                raise MissingModelError(f"--segmenter sam: {first_line(exc)}") from exc
            self._say(f"SAM not available ({first_line(exc)}); object mask from {'YOLO' if self._yolo else 'GrabCut'}")
        return self._sam

    def run(self, image: ImageInput, *, label: str | None, box: Box | None, mask: np.ndarray | None,
            person_box: Box | None) -> tuple[Detections, str]:  # fmt: skip
        """Detect the person and the object. Returns the detections and the object label (given or
        detected)."""
        from hoirecon.perception import detect_person, segment_object

        c = self.config
        yolo = self.yolo(needed=box is None and mask is None)
        instances: list[Instance] = yolo.detect(image) if yolo is not None else []
        prov: dict[str, Any] = {"detector": "yolo" if yolo is not None else "mediapipe", "notices": list(self.notices)}

        # Person: YOLO picks which person (largest, or --person-index), MediaPipe gives the landmarks.
        people = sorted((i for i in instances if i.label == "person"), key=lambda i: -_area(i.box))
        yolo_person = None
        if c.person_index is not None:
            if not people:
                raise InputError(f"{image.path}: --person-index {c.person_index} needs a detector that finds people (YOLO)")
            if not 0 <= c.person_index < len(people):
                raise InputError(f"{image.path}: --person-index {c.person_index} out of range: {len(people)} people found")
            yolo_person = people[c.person_index]
        elif people and person_box is None:
            yolo_person = people[0]
        person = detect_person(image, person_box=person_box or (yolo_person.box if yolo_person else None))
        if yolo_person is not None and yolo_person.mask is not None and yolo_person.mask.any():
            person = PersonDetection(box=person.box, mask=yolo_person.mask, keypoints=person.keypoints,
                                     visibility=person.visibility, world_keypoints=person.world_keypoints,
                                     backend=f"{yolo_person.backend}+{person.backend}", score=yolo_person.score)  # fmt: skip
            prov["person"] = {"box": yolo_person.backend, "mask": yolo_person.backend, "landmarks": "mediapipe-pose",
                              "weights": [dict(yolo_person.weights or {})]}  # fmt: skip
        else:
            prov["person"] = {"box": person.backend, "mask": person.backend, "landmarks": person.backend, "weights": []}

        # Object: the user's box/mask, else the detected object the person interacts with.
        chosen: Instance | None = None
        if box is None and mask is None:
            if yolo is None and self._yolo_problem and c.detector == "auto" and not _offline(c):
                raise MissingModelError(f"{image.path}: no object box, and the object detector is missing: "
                                        f"{self._yolo_problem}")  # fmt: skip
            if yolo is None:
                raise InputError(
                    f"{image.path}: no object box and no object detector available; pass --object-box x0,y0,x1,y1 "
                    f"or --object-mask PNG, write a sidecar {image.path.name}.json with \"object_box\", or install "
                    f"the YOLO weights (hoirecon models download {c.yolo_model})"
                )
            chosen, label = choose_object(image, instances, person, label, c.object_index)
            box = chosen.box
        if label is None:
            raise InputError(f"{image.path}: no object label; pass --object LABEL or put \"object\" in the sidecar JSON")

        obj_backend_box = "user" if chosen is None else chosen.backend
        weights: list[dict[str, str]] = [dict(chosen.weights)] if chosen is not None and chosen.weights else []
        sam = self.sam() if mask is None else None
        if mask is not None:
            obj = segment_object(image, box, label, mask=mask, person_mask=person.mask)
        elif sam is not None:
            m = sam.refine(image, box)
            if m.any():
                obj = ObjectDetection(label, box, m, sam.backend, chosen.score if chosen else 1.0)
                weights.append(dict(sam.weights))
            else:
                obj = segment_object(image, box, label, person_mask=person.mask)
        elif chosen is not None and chosen.mask is not None and chosen.mask.any() and c.segmenter != "grabcut":
            obj = ObjectDetection(label, box, chosen.mask, chosen.backend, chosen.score)
        else:
            obj = segment_object(image, box, label, person_mask=person.mask)
        prov["object"] = {"box": obj_backend_box, "mask": obj.backend, "weights": weights,
                          "detected_label": chosen.label if chosen else None}  # fmt: skip
        prov["notices"] = list(self.notices)
        return Detections(person=person, object=obj, provenance=prov), label


def interaction_score(inst: Instance, person: PersonDetection, image: ImageInput) -> float:
    """How likely the person interacts with ``inst``: overlap of its mask (or box) with the dilated
    person mask, and closeness of its box to the hands, hips and feet. In [0, 2]."""
    diag = max(1.0, math.hypot(person.box.width, person.box.height))
    H, W = image.height, image.width
    r = max(1, int(0.05 * diag))
    near = cv2.dilate(person.mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
    if inst.mask is not None and inst.mask.any():
        region = inst.mask
    else:
        region = np.zeros((H, W), bool)
        region[int(inst.box.y0) : int(math.ceil(inst.box.y1)), int(inst.box.x0) : int(math.ceil(inst.box.x1))] = True
    overlap = float((region & near).sum()) / max(1.0, float(region.sum()))
    pts = person.keypoints[list(_CONTACT_LANDMARKS)]
    vis = person.visibility[list(_CONTACT_LANDMARKS)] > 0.3
    if vis.any():
        p = pts[vis]
        dx = np.maximum(np.maximum(inst.box.x0 - p[:, 0], 0), p[:, 0] - inst.box.x1)
        dy = np.maximum(np.maximum(inst.box.y0 - p[:, 1], 0), p[:, 1] - inst.box.y1)
        closeness = float(np.exp(-np.hypot(dx, dy).min() / (0.1 * diag)))
    else:
        closeness = 0.0
    return overlap + closeness


def choose_object(image: ImageInput, instances: list[Instance], person: PersonDetection, label: str | None,
                  index: int | None) -> tuple[Instance, str]:  # fmt: skip
    """The object the person interacts with, among detected instances whose class maps to a library
    category (and to ``label``'s category when given). Candidates are ranked by
    :func:`interaction_score`; ``index`` picks another rank (0 = best)."""
    from hoirecon.objects import resolve_label

    want = resolve_label(label) if label else None
    cands: list[tuple[float, Instance, str]] = []
    for inst in instances:
        if inst.label == "person":
            continue
        try:
            cat = resolve_label(inst.label)
        except HoireconError:
            continue
        if want is None or cat == want:
            cands.append((interaction_score(inst, person, image), inst, cat))
    if not cands:
        found = sorted({i.label for i in instances if i.label != "person"})
        what = f"no '{label}'" if label else "no object of a known category"
        raise InputError(
            f"{image.path}: {what} detected (found: {', '.join(found) or 'nothing'}); pass --object-box x0,y0,x1,y1"
        )
    cands.sort(key=lambda c: -c[0])
    if index is not None:
        if not 0 <= index < len(cands):
            raise InputError(f"{image.path}: --object-index {index} out of range: {len(cands)} candidate objects")
        _, inst, cat = cands[index]
    else:
        _, inst, cat = cands[0]
    return inst, (label or inst.label)


def _offline(c: DetectorConfig) -> bool:
    from hoirecon.cache import offline

    return bool(c.offline) if c.offline is not None else offline()


def _area(b: Box) -> float:
    return b.width * b.height
