"""Settings of the joint fit: ``FitConfig`` (schedule, point budgets, contact trimming, every loss weight
in ``weights``) and ``LimbConfig`` (the limb phase's schedule), both recorded in the resolved config
(``config.json``: ``fit``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from hoirecon.fitting.weights import FitWeights


@dataclass(frozen=True)
class LimbConfig:
    """Schedule of the contact-limb phase (its weights: ``FitConfig.weights.limbs``)."""

    steps: int = 40
    lr_pose: float = 0.01
    lr_transl: float = 0.003
    # metres, the translation prior's scale. The body fit's depth is its least certain number (a person
    # 10 % taller than the model stands 10 % farther away), and the 2D landmark term holds the rest: with
    # 5 cm a seated body fitted 15 to 20 cm in front of its chair could not reach the seat.
    transl_sigma: float = 0.15
    max_contact_points: int = 300
    max_body_points: int = 1500
    reach_tol: float = 0.02  # metres: only pairs whose contact distance after the object fit exceeds this move
    robust_sigma: float = 0.05  # 2D landmark residual scale, in person-box diagonals (as the body fit)
    penetration_deep_fraction: float = 0.02  # the deepest body points also count on their own
    # The contact term's trimmed-mean fraction for part-level contacts (None: the object fit's,
    # ``FitConfig.keep_fraction``); vertex-level contacts keep all their points in both phases. The
    # object fit pulls only the closest 5 % of a part, so that the silhouette places the object; with
    # the object placed, a limb that reaches it should touch it with a surface (a sole flat on a deck),
    # not a point: the closest 30 %, the share the contact distance reads. On the real photos this took
    # the skateboard's soles from 3.1 to 0.9 cm off the deck.
    keep_fraction: float | None = 0.3
    object_samples: int = 2000  # object surface points watched for entering the moving limbs
    body_penetration_radius: float = 0.05  # metres: an object point farther from every moving vertex is not judged


@dataclass(frozen=True)
class MakeConfig:
    """Retrieval of the object's make (``objects.json`` ``variants``: an office chair, a camp stool) by
    analysis by synthesis (``hoirecon.pipeline.retrieve_make``): every make is fitted with the
    interaction mode of most evidence on the joint fit's own schedule, limb phase included, and the
    make whose fit explains the photo best is kept, that fit with it. Shorter schedules were tried and
    left the makes' fits unconverged and their contacts apart by chance: 20 / 40 search / refinement
    steps took a real office chair for a folding chair (silhouette IoU 0.26 against 0.61), and without
    the limb phase the synthetic chairs' makes were found in 7 of 14 scenes against 10."""

    enabled: bool = True


@dataclass(frozen=True)
class FitConfig:
    """Schedule of the joint fit, and the weights of every fitting objective (``weights``: ours, the
    limb phase, the baselines)."""

    steps_search: int = 60
    steps_refine: int = 150
    lr: float = 0.02
    yaw_starts: int = 8
    refine_top: int = 3  # hypotheses refined after the search; the best after refinement wins
    # Every starting rotation also starts centred on the mask's centroid ray, at the contacts' depth
    # plus each of these offsets (in object extents); () turns these starts off.
    mask_start_depths: tuple[float, ...] = (-0.5, 0.5)
    # Part-level contacts (a prior's whole hand against a whole grip) say that the parts touch
    # somewhere: only the closest few points attract, and weakly, so that the silhouette decides the
    # rest. Vertex-level contacts (ContactSet.precise) are the touching regions: all of them attract.
    keep_fraction: float = 0.05  # trimmed-mean fraction, body-to-object distances (part-level)
    # The same, object-to-body (part-level). 0: off, because a large part's vertices (a table top's)
    # lie far apart and would pull one of them into the hand.
    keep_fraction_back: float = 0.0
    keep_fraction_precise: float = 1.0  # both directions, vertex-level contacts
    body_shift_sigma: float = 0.1  # the body-depth prior's scale, in units of the body centroid's depth
    max_contact_points: int = 300
    region_points: int = 300  # area samples per contact pair's object region
    max_object_points: int = 800
    max_mask_points: int = 800
    search_points: int = 200  # object, mask and per-pair contact points while all the starts run
    mask_resolution: int = 256
    sdf_spacing: float = 0.02
    # The deepest object points inside the body also count on their own (terms.penetration).
    penetration_deep_fraction: float = 0.02
    seed: int = 0
    weights: FitWeights = field(default_factory=FitWeights)  # every objective's loss weights
    limbs: LimbConfig = field(default_factory=LimbConfig)  # the last phase (needs the body model)
    makes: MakeConfig = field(default_factory=MakeConfig)  # which make of the category (its variants)

    def as_dict(self) -> dict:
        return asdict(self)
