"""What a contact source hands back: :class:`Localization` (records only; no source, no lift here)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hoirecon.contact.render import ViewSet, render_body_views

__all__ = ["Localization"]


@dataclass(frozen=True)
class Localization:
    """What a contact source found, and what the contact pictures need.

    From the source: either per-view maps (``human_maps`` / ``object_maps``: one (H, W) float32 array
    in [0, 1] per view of ``human_views`` / ``object_views``) or per-vertex probabilities
    (``human_prob`` (V_body,) / ``object_prob`` (V_obj,)); probabilities win when both are set.
    ``details``: JSON-ready provenance (files read, commands run). ``precise``: the source's own
    ``precise`` (vertex-precise contacts, or part-level paint; copied into ``ContactSet.precise``).

    Filled in by :func:`hoirecon.contact.infer_contacts` (None on a record straight from a source):

    * ``open_pose_vertices`` (V_body, 3) float32 / ``open_pose_faces`` (F, 3) int64: the body model
      in its canonical open pose, canonical frame (``hoirecon.body.open_pose_vertices``); the human
      views are (or, for sources without views, would be) rendered from these;
    * ``human_contact`` (V_body,) / ``object_contact`` (V_obj,) float32: the per-vertex contact
      probabilities the ContactSet was built from (after the lift; equal to its ``human_prob`` /
      ``object_prob``).
    """

    source: str
    human_views: ViewSet | None = None
    object_views: ViewSet | None = None
    human_maps: tuple[np.ndarray, ...] | None = None
    object_maps: tuple[np.ndarray, ...] | None = None
    human_prob: np.ndarray | None = None
    object_prob: np.ndarray | None = None
    details: dict = field(default_factory=dict)
    precise: bool = True
    open_pose_vertices: np.ndarray | None = None
    open_pose_faces: np.ndarray | None = None
    human_contact: np.ndarray | None = None
    object_contact: np.ndarray | None = None

    def human_view_set(self, size: int | None = None) -> ViewSet | None:
        """The human views: the source's, else rendered from the open-pose body (None without it).
        The same view set ``hoirecon.contact.render.render_human_views(body_model)`` gives."""
        if self.human_views is not None and (size is None or self.human_views.size == size):
            return self.human_views
        if self.open_pose_vertices is None or self.open_pose_faces is None:
            return None
        return render_body_views(self.open_pose_vertices, self.open_pose_faces, size=size)
