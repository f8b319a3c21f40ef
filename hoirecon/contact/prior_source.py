"""Contact source ``prior``: the offline estimate (category priors narrowed by image evidence,
:func:`hoirecon.contact.priors.infer_contacts`) painted into the Render-Localize-Lift views by the
inverse lift, so that it goes through the same lift and selection as any 2D localizer. Its contacts
are part-level paint (whole body and object parts), hence ``precise = False``."""

from __future__ import annotations

from typing import Any

import numpy as np

from hoirecon.contact.base import ContactSource
from hoirecon.contact.config import ContactConfig, ContactStageConfig, RLLConfig
from hoirecon.contact.lift import indicator, paint
from hoirecon.contact.priors import infer_contacts
from hoirecon.contact.records import Localization
from hoirecon.contact.render import render_human_views, render_object_views
from hoirecon.errors import InputError
from hoirecon.types import BodyFit, Detections, ImageInput, ObjectMesh

__all__ = ["PriorSource"]


class PriorSource(ContactSource):
    """``prior``: needs the body model (its open-pose human views); settings ``rll`` (render size,
    ``blur_px``) and ``prior`` (:class:`~hoirecon.contact.config.ContactConfig`)."""

    name = "prior"
    description = "category contact priors narrowed by image evidence (offline, no extra model)"
    precise = False
    requires: dict[str, str] = {}
    uses = ("rll", "prior")
    needs_cuda = False
    needs_body_model = True

    def __init__(self, body_model: Any, rll: RLLConfig = RLLConfig(), prior: ContactConfig | None = None) -> None:
        if body_model is None:
            raise ValueError("the prior contact source needs the body model")
        self.body_model = body_model
        self.rll = rll
        self.prior = prior or ContactConfig()
        self.config = ContactStageConfig(source=self.name, rll=self.rll, prior=self.prior)

    @classmethod
    def from_config(cls, config: ContactStageConfig, body_model: Any = None) -> "PriorSource":
        src = cls(body_model, config.rll, config.prior)
        src.config = config
        return src

    def __call__(self, image: ImageInput, detections: Detections, body: BodyFit, object_mesh: ObjectMesh,
                 label: str, mode: str | None = None) -> Localization:  # fmt: skip
        person = detections.person
        diag = float(np.hypot(person.box.width, person.box.height))
        c = infer_contacts(body, object_mesh, detections.object, image.camera, diag, self.prior, mode=mode)
        hv = render_human_views(self.body_model, size=self.rll.size)
        if hv.num_vertices != len(body.vertices):
            raise InputError(f"prior: the body model renders {hv.num_vertices} vertices, the body has {len(body.vertices)}")
        ov = render_object_views(object_mesh, size=self.rll.size)
        blur = self.rll.blur_px
        return Localization(
            source=self.name,
            human_views=hv,
            object_views=ov,
            human_maps=paint(hv, indicator(hv.num_vertices, c.human_vertices), blur),
            object_maps=paint(ov, indicator(ov.num_vertices, c.object_vertices), blur),
            details={"prior_pairs": [list(p) for p in c.pairs], "mode": mode},
            precise=self.precise,
        )
