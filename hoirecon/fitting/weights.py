"""The loss weights of every fitting objective, one record per objective, all held by
``FitConfig.weights`` (:class:`FitWeights`), so that ``config.json`` shows them in one place under
``fit.weights``. Each objective multiplies the term of the same name in :mod:`hoirecon.fitting.terms`
(or, for the baselines, in :mod:`hoirecon.fitting.baselines`) by its weight; a term's units are in its
function's docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ObjectFitWeights:
    """Our object fit (:func:`hoirecon.fitting.joint.fit_object`)."""

    # Vertex-level contacts (ContactSet.precise) are the touching regions: all of their points attract,
    # strongly. Part-level contacts only say that the parts touch somewhere: the closest few points
    # attract, weakly, so that the silhouette decides the rest.
    contact: float = 30.0  # vertex-level contacts
    contact_part: float = 4.0  # part-level contacts
    # The photo is the judge: the object's mask places it in the image, the contacts mostly along the
    # viewing ray (which the silhouette leaves free) and the limb phase brings the body to it. With the
    # silhouette at 2 the contacts pulled a kicked ball 45 px onto the foot.
    sil_cover: float = 30.0
    sil_inside: float = 30.0
    depth: float = 20.0
    # The converse of depth: where the object is seen over the body (object-only pixels that the
    # body projects to), the object's nearest points there lie in front of the body.
    occluder: float = 20.0
    penetration: float = 100.0
    scale: float = 0.5
    upright: float = 1.0
    # A mode's "facing" (contacts.json): a soft prior on the object's yaw about gravity, so that a chair
    # is sat on from its front; 0.27 at 30 degrees off, 2 at 90, 4 reversed (people sit turned, the
    # silhouette decides within that).
    facing: float = 2.0
    body_shift: float = 2.0
    floor: float = 3.0  # each support (the lowest foot, a resting object's lowest points) on the shared floor
    floor_maybe: float = 1.5  # an object that may be carried ("either"): the feet win a disagreement
    floor_penetration: float = 100.0  # object and body points below the floor, and the object's lowest ones

    def contact_for(self, precise: bool) -> float:
        """The contact weight for vertex-level (``precise``) or part-level contacts."""
        return self.contact if precise else self.contact_part


@dataclass(frozen=True)
class LimbWeights:
    """The contact-limb phase (:func:`hoirecon.fitting.limbs.refine_contact_limbs`); the same contact
    weight for vertex- and part-level contacts."""

    contact: float = 30.0
    reproj: float = 1.0
    object_penetration: float = 100.0
    body_penetration: float = 30.0  # the object's points inside the re-posed limbs (100 held a hand off a bat it had to reach round)
    pose: float = 2.0
    transl: float = 1.0


@dataclass(frozen=True)
class InteractVLMWeights:
    """The InteractVLM baseline (:func:`hoirecon.fitting.baselines.fit_interactvlm`), its released values."""

    mask: float = 5.0
    centroid: float = 1e-4
    contact: float = 10.0


@dataclass(frozen=True)
class PhosaWeights:
    """The PHOSA baseline (:func:`hoirecon.fitting.baselines.fit_phosa`), its released values."""

    silhouette: float = 10.0
    interaction: float = 20.0
    part: float = 50.0
    depth: float = 1.0
    scale: float = 100.0


@dataclass(frozen=True)
class FitWeights:
    """The weights of every objective: ours (``object``), its limb phase and the two baselines."""

    object: ObjectFitWeights = field(default_factory=ObjectFitWeights)
    limbs: LimbWeights = field(default_factory=LimbWeights)
    interactvlm: InteractVLMWeights = field(default_factory=InteractVLMWeights)
    phosa: PhosaWeights = field(default_factory=PhosaWeights)
