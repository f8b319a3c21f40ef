"""Typed, frozen records that the pipeline stages pass to each other.

Conventions (everywhere inside hoirecon, converted only in ``hoirecon.export``):

* camera frame: x right, y down, z forward (OpenCV), units metres;
* image coordinates: pixels, origin at the top-left corner of the top-left pixel, x right, y down;
* masks: (H, W) bool arrays at the image's resolution;
* arrays are numpy, float32 unless stated otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from hoirecon.geometry.projection import project


@dataclass(frozen=True)
class Box:
    """Axis-aligned pixel box ``[x0, x1) x [y0, y1)``, x0 < x1, y0 < y1."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center(self) -> tuple[float, float]:
        return (0.5 * (self.x0 + self.x1), 0.5 * (self.y0 + self.y1))

    def as_list(self) -> list[float]:
        return [float(self.x0), float(self.y0), float(self.x1), float(self.y1)]

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> "Box":
        """The tight box around the True pixels of an (H, W) mask (which must not be empty)."""
        ys, xs = np.nonzero(mask)
        return cls(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole camera. ``fx, fy, cx, cy`` in pixels; ``source`` says where the focal length came from
    (``"exif"``, ``"default_fov"`` or ``"user"``)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    source: str = "default_fov"

    @property
    def K(self) -> np.ndarray:
        """(3, 3) float64 intrinsic matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) camera-frame metres -> (N, 2) pixels."""
        return project(points, self.fx, self.fy, self.cx, self.cy)


@dataclass(frozen=True)
class ImageInput:
    """The photo. ``rgb``: (H, W, 3) uint8, RGB order; ``camera``: the intrinsics of ``rgb``.

    ``original_size``: (W, H) of the photo as given (after EXIF orientation) when ``rgb`` is a working
    copy of it (``hoirecon.photo.working_copy``), else None; see ``scale``."""

    path: Path
    rgb: np.ndarray
    camera: CameraIntrinsics
    original_size: tuple[int, int] | None = None

    @property
    def scale(self) -> float:
        """Working pixels per original pixel (1.0 when ``rgb`` is the photo itself)."""
        if self.original_size is None:
            return 1.0
        return float(max(self.width, self.height)) / float(max(self.original_size))

    def original_camera(self) -> CameraIntrinsics:
        """The intrinsics for the photo at its original size."""
        if self.original_size is None or self.scale == 1.0:
            return self.camera
        s, (w, h), c = self.scale, self.original_size, self.camera
        return CameraIntrinsics(c.fx / s, c.fy / s, w / 2.0, h / 2.0, int(w), int(h), c.source)

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])


@dataclass(frozen=True)
class PersonDetection:
    """One person in the image.

    keypoints: (33, 2) float32 pixels, MediaPipe Pose landmark order.
    visibility: (33,) float32 in [0, 1].
    world_keypoints: (33, 3) float32 metres, hip-centred, MediaPipe's world frame (x right, y down,
        z away from the camera, approximately camera-aligned).
    mask: (H, W) bool.
    """

    box: Box
    mask: np.ndarray
    keypoints: np.ndarray
    visibility: np.ndarray
    world_keypoints: np.ndarray
    backend: str
    score: float = 1.0


@dataclass(frozen=True)
class ObjectDetection:
    """The object the person interacts with. ``mask``: (H, W) bool. ``label``: as given by the user or
    detector (not yet resolved to a library category)."""

    label: str
    box: Box
    mask: np.ndarray
    backend: str
    score: float = 1.0


@dataclass(frozen=True)
class Detections:
    """The person and the object chosen for reconstruction. ``provenance``: which backends and weights
    (name + sha256) produced each box and mask, and notices such as fallbacks (JSON-ready)."""

    person: PersonDetection
    object: ObjectDetection
    provenance: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BodyState:
    """The body model's inputs behind a BodyFit, so that a later stage can re-pose the body with the
    same model: ``x_cam = R(orient) @ model.forward(pose, shape) + transl``.

    pose: (J, 3) float32 axis-angle, in the model's ``pose_joints`` order.
    shape: (S,) float32 shape parameters.
    orient: (3,) float32 axis-angle, canonical frame -> camera frame.
    transl: (3,) float32 metres, camera frame.
    """

    pose: np.ndarray
    shape: np.ndarray
    orient: np.ndarray
    transl: np.ndarray


@dataclass(frozen=True)
class Skin:
    """The body's skeleton posed as fitted, for a skinned (re-posable) export. Camera frame, metres.

    joint_names: (J,) the body model's bone names; parents: (J,) int, the parent joint's index, -1 for
    the root (a parent comes before its children).
    joint_world: (J, 4, 4) float64 rigid transforms (rotation, det +1, and translation) of the bones as
    fitted, camera frame: a bone's frame in the camera frame, its head (the joint) at ``[:3, 3]``.
    joints: (V, 8) uint16 indices of each vertex's eight largest skinning weights (two glTF sets of
    four); weights: (V, 8) float32 those weights, renormalised to sum to 1 (``dropped``: the largest
    weight sum left out). vertices: (V, 3) float32 the camera-frame vertices the model gives for this
    pose (compared with the fitted mesh before it is exported).
    """

    joint_names: tuple[str, ...]
    parents: np.ndarray
    joint_world: np.ndarray
    joints: np.ndarray
    weights: np.ndarray
    vertices: np.ndarray
    dropped: float = 0.0


@dataclass(frozen=True)
class BodyFit:
    """The fitted body, camera frame.

    vertices: (V, 3) float32, metres, camera frame.
    faces: (F, 3) int64.
    keypoints3d: (K, 3) float32, metres, camera frame, order ``keypoint_names``.
    part_of_vertex: (V,) int16 index into ``part_names`` (body-part segmentation of the vertices).
    params: body-model parameters, JSON-serialisable (lists/floats/strings).
    state: the model inputs that give ``vertices`` (None when the body did not come from a model fit).
    regions: contact regions (``body_parts.json`` ``regions``: the sole, the back of the thigh, the
        face): name -> (R,) int64 vertex indices (``hoirecon.body.model.body_regions``); empty when
        the body did not come from a model, and a pair's region then falls back to its whole part.
    """

    model_name: str
    vertices: np.ndarray
    faces: np.ndarray
    keypoints3d: np.ndarray
    keypoint_names: tuple[str, ...]
    part_of_vertex: np.ndarray
    part_names: tuple[str, ...]
    params: Mapping[str, Any]
    reprojection_error_px: float = float("nan")
    state: BodyState | None = None
    regions: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def height_m(self) -> float:
        """Extent along the body's longest axis, metres (a proxy for standing height)."""
        ext = self.vertices.max(0) - self.vertices.min(0)
        return float(ext.max())


@dataclass(frozen=True)
class ObjectMesh:
    """A metric object mesh in its canonical frame.

    Canonical frame: metres, y down (gravity along +y), object resting with its base at y = 0 upwards
    (so the object occupies y <= 0), centred on x and z; its "front" (the side a user faces) at -z.
    vertices: (V, 3) float32. faces: (F, 3) int64.
    part_of_vertex: (V,) int16 index into ``part_names``.
    part_aliases: ``((missing part, part it has), ...)``: where the category's parts that this mesh
        lacks are touched (a camp stool, a chair without a backrest, is carried by its seat).
    variant: which make of the category (``objects.json`` ``variants``; "default": the entry's own).
    """

    category: str
    vertices: np.ndarray
    faces: np.ndarray
    part_of_vertex: np.ndarray
    part_names: tuple[str, ...]
    source: str
    symmetry: str = "none"
    part_aliases: tuple[tuple[str, str], ...] = ()
    variant: str = "default"

    def part_vertices(self, name: str) -> np.ndarray:
        """Indices (int64) of the vertices in part ``name`` (its alias's when the mesh lacks it; empty
        if neither exists)."""
        if name not in self.part_names:
            name = dict(self.part_aliases).get(name, name)
        if name not in self.part_names:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.part_of_vertex == self.part_names.index(name))


@dataclass(frozen=True)
class ContactSet:
    """Predicted contacts.

    human_vertices: (Nh,) int64 body-vertex indices in contact.
    object_vertices: (No,) int64 object-vertex indices in contact.
    pairs: which body part touches which object part, e.g. ``(("right_hand", "grip"), ...)``.
    pair_of_human_vertex / pair_of_object_vertex: (Nh,) / (No,) int16 index into ``pairs``; contact
        attraction matches vertices of the same pair only.
    human_prob / object_prob: optional per-vertex probabilities on the full meshes, (V_body,), (V_obj,).
    precise: True when the vertex sets are the touching regions themselves (ground truth, InteractVLM's
        per-vertex contacts); False for part-level candidates of which only some vertices touch (the
        fitter then attracts only the closest fraction of each set).
    """

    human_vertices: np.ndarray
    object_vertices: np.ndarray
    pairs: tuple[tuple[str, str], ...]
    pair_of_human_vertex: np.ndarray
    pair_of_object_vertex: np.ndarray
    source: str
    human_prob: np.ndarray | None = None
    object_prob: np.ndarray | None = None
    precise: bool = False


@dataclass(frozen=True)
class ObjectFit:
    """Object pose: ``x_cam = scale * R @ x_canonical + t``.

    rotation: (3, 3) float32. translation: (3,) float32 metres, camera frame. scale: unitless
    multiplier on the metric canonical mesh. vertices: (V, 3) float32 metres, camera frame.
    """

    mesh: ObjectMesh
    rotation: np.ndarray
    translation: np.ndarray
    scale: float
    vertices: np.ndarray


@dataclass(frozen=True)
class FitResult:
    """Output of joint fitting: the body (possibly translated) and the posed object. ``floor``: the
    fitted floor (``hoirecon.ground.Floor``, camera frame) or None when the fit had no floor."""

    body: BodyFit
    object: ObjectFit
    losses: Mapping[str, float]
    body_translation: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    floor: Any = None


@dataclass(frozen=True)
class Reconstruction:
    """Everything the exporter writes. ``timings``: stage name -> seconds. ``contact_views``: the
    (human, object) ``hoirecon.contact.render.ViewSet`` the contacts were localized in (None where the
    localizer gave per-vertex values), reused for the contact pictures. ``quality``: ``{"status": "ok" |
    "suspect", "reasons": [...], "checks": {...}}`` (``hoirecon.quality.assess``). ``image`` is the
    working copy the stages ran on (``image.original_size`` and ``image.scale`` relate it to the photo).
    ``gravity``: the photo's up (``hoirecon.ground.Gravity``, camera frame) or None (ground stage off).
    ``interaction``: the interaction mode chosen (``hoirecon.contact.modes.ModeChoice``) or None.
    ``skin``: the body's skeleton as fitted (:class:`Skin`) for a skinned ``human`` in the GLB, or None."""

    image: ImageInput
    detections: Detections
    fit: FitResult
    contacts: ContactSet
    config: Mapping[str, Any]
    timings: Mapping[str, float]
    contact_views: tuple[Any, Any] = (None, None)
    quality: Mapping[str, Any] = field(default_factory=dict)
    gravity: Any = None
    interaction: Any = None
    skin: Skin | None = None


@dataclass(frozen=True)
class Instance:
    """One detected instance from a detector backend.

    label: the detector's class name (e.g. ``"person"``, ``"tennis racket"``).
    mask: (H, W) bool at the image's resolution, or None when the backend gives boxes only.
    backend: what produced it, e.g. ``"yolo:yolo11n-seg.pt"``; weights: ``{"name", "sha256"}`` or None.
    """

    label: str
    box: Box
    score: float
    backend: str
    mask: np.ndarray | None = None
    weights: Mapping[str, str] | None = None
