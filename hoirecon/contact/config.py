"""Settings of the contact stage: one frozen tree, ``ContactStageConfig`` (the pipeline's ``contact``).

::

    ContactStageConfig
    ├── source            a name in hoirecon.contact.CONTACT_SOURCES ("prior", "interactvlm-import", ...)
    ├── contacts_dir      interactvlm-import: the demo outputs; interactvlm-run: where its inputs/outputs go
    ├── interactvlm_repo  interactvlm-run: the InteractVLM checkout (with its weights)
    ├── rll:   RLLConfig      the lift of 2D maps to vertices and the vertex selection
    ├── prior: ContactConfig  the offline prior estimate (hoirecon.contact.priors)
    └── modes: ModeConfig     the choice of the interaction mode (hoirecon.contact.modes)

Which of the source-specific settings a source needs is declared by the source itself
(``ContactSource.requires``). Every value is a plain JSON value, so ``dataclasses.asdict`` of the tree
goes straight into ``config.json``. This module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RLLConfig", "ContactConfig", "ContactStageConfig", "ModeConfig"]


@dataclass(frozen=True)
class RLLConfig:
    """Settings of the lift and of the vertex selection (recorded in the resolved config)."""

    size: int | None = None  # render size in pixels; None: rll_views.json (1024)
    human_threshold: float = 0.5  # InteractVLM's human contact threshold
    object_threshold: float = 0.3  # InteractVLM's object contact threshold (0.3 to 0.5)
    object_pixel_threshold: float | None = 0.3  # object pixels with p <= this count as 0 before lifting
    threshold_mode: str = "zero"  # "drop": leave those pixels out instead (InteractVLM's released code)
    top_fraction: float = 0.05  # when nothing reaches the threshold: this fraction of the vertices ...
    min_top: int = 10  # ... but at least this many
    min_part_fraction: float = 0.02  # body-part groups below this share of the selected area are noise
    fill_unseen: bool = True  # vertices no view sees take their neighbours' mean
    blur_px: float = 0.0  # Gaussian sigma (pixels) applied to maps painted from vertex sets (prior)


@dataclass(frozen=True)
class ContactConfig:
    """Settings of the offline prior estimate (``hoirecon.contact.priors.infer_contacts``)."""

    dilate_frac: float = 0.03  # dilation radius as a fraction of the person box diagonal
    min_evidence: float = 0.2  # fraction of a part's projected vertices on the object to count as evidence
    min_narrow: int = 20  # narrow a part to its on-object vertices only when at least this many
    min_required: float = 0.05  # a required pair whose part has less evidence than this is dropped


@dataclass(frozen=True)
class ModeConfig:
    """Settings of the mode choice (``ContactStageConfig.modes``; :mod:`hoirecon.contact.modes`); scales in units of the person's
    height in the image, level in units of the object mask's height."""

    near_scale: float = 0.06
    far_scale: float = 0.12
    level_scale: float = 0.25
    unseen: float = 0.5  # the score of a statement about a group the photo does not show
    # the posture statement (read off the fitted body) outweighs any one landmark group (at most 2)
    posture_weight: float = 3.0
    floor: float = 0.05  # a failed statement keeps this much
    # Every mode of a category is scored on every statement any of its modes makes (each with the
    # largest weight any of them gives it; ``unseen`` where the mode says nothing), so that the modes
    # are compared on the same evidence and a mode does not win by saying less.
    shared: bool = True
    # A mode's evidence: prior x exp(sum of w log s / temperature), a tempered product of its
    # statements (1: the plain product). None: the weighted geometric mean (the rule before
    # 2026-12-04, under which the commoner mode's prior outvoted what tells two modes apart).
    temperature: float | None = 1.0
    min_visibility: float = 0.3
    candidate_ratio: float = 0.1  # modes with at least this fraction of the best evidence are fitted ...
    max_candidates: int = 2  # ... at most this many
    contact_scale_m: float = 0.03  # agreement: exp(-contact distance / this)
    penetration_free_m: float = 0.01  # agreement: penetration up to this is free ...
    penetration_scale_m: float = 0.02  # ... then exp(-excess / this)
    touch_m: float = 0.02  # consistency: a body part touches the fitted object within this (the benchmarks' 2 cm)
    consistency_keep: float = 0.7  # ... each touching part the mode does not name, each required one apart, keeps this


@dataclass(frozen=True)
class ContactStageConfig:
    """The contact stage: which source localizes the contacts, its settings, the lift and the prior."""

    source: str = "prior"  # a name in hoirecon.contact.CONTACT_SOURCES
    contacts_dir: str | None = None  # import: InteractVLM's demo outputs; run: where its inputs/outputs go
    interactvlm_repo: str | None = None  # run: the InteractVLM checkout (with its weights)
    rll: RLLConfig = field(default_factory=RLLConfig)
    prior: ContactConfig = field(default_factory=ContactConfig)
    modes: ModeConfig = field(default_factory=ModeConfig)  # which interaction mode the photo shows
