"""Contact source ``interactvlm-run``: write InteractVLM's demo inputs, run its demo from a checkout
(``ContactStageConfig.interactvlm_repo``; needs a CUDA GPU in InteractVLM's own Python environment,
``$HOIRECON_INTERACTVLM_PYTHON``), import its outputs. Helpers in ``hoirecon.contact.interactvlm``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hoirecon.contact.base import ContactSource
from hoirecon.contact.config import ContactStageConfig
from hoirecon.contact.interactvlm import (
    HCONTACT_SUFFIX,
    OAFFORD_SUFFIX,
    check_repo,
    load_human_contacts,
    load_object_affordance,
    prepare_inputs,
    run_demo,
    sample_name,
)
from hoirecon.contact.records import Localization
from hoirecon.errors import HoireconError
from hoirecon.types import BodyFit, Detections, ImageInput, ObjectMesh

__all__ = ["InteractVLMRun"]


class InteractVLMRun(ContactSource):
    """``interactvlm-run``: prepare the inputs, run the demo from ``repo``, import its outputs.
    ``work_dir`` (``contacts_dir`` in the config): where the samples go (kept for inspection);
    default a new temporary folder."""

    name = "interactvlm-run"
    description = "run InteractVLM's demo on the photo (its checkout and weights; CUDA), then import"
    precise = True
    requires = {"interactvlm_repo": "--interactvlm-repo DIR (an InteractVLM checkout)"}
    uses = ("interactvlm_repo", "contacts_dir", "rll")
    needs_cuda = True
    needs_body_model = False

    def __init__(self, repo: str | os.PathLike[str], work_dir: str | os.PathLike[str] | None = None,
                 python: str | None = None, timeout: float | None = 3600.0, body_model: Any = None) -> None:  # fmt: skip
        self.repo = check_repo(repo)
        self.work_dir = Path(work_dir).expanduser() if work_dir else None
        self.python = python
        self.timeout = timeout
        self.body_model = body_model
        self.config = ContactStageConfig(source=self.name, interactvlm_repo=str(repo),
                                         contacts_dir=str(work_dir) if work_dir else None)  # fmt: skip

    @classmethod
    def from_config(cls, config: ContactStageConfig, body_model: Any = None) -> "InteractVLMRun":
        src = cls(config.interactvlm_repo, work_dir=config.contacts_dir, body_model=body_model)
        src.config = config
        return src

    def __call__(self, image: ImageInput, detections: Detections, body: BodyFit, object_mesh: ObjectMesh,
                 label: str, mode: str | None = None) -> Localization:  # fmt: skip
        name = sample_name(label, image.path)
        if self.work_dir is not None:
            img_folder = self.work_dir / name  # one sample per --img_folder: the demo runs every subfolder
        else:
            img_folder = Path(tempfile.mkdtemp(prefix="hoirecon-interactvlm-"))
        sample = prepare_inputs(img_folder, image, detections, object_mesh, label)
        cmds = run_demo(self.repo, img_folder, self.python, self.timeout)
        h = sample.folder / f"{sample.name}{HCONTACT_SUFFIX}"
        o = sample.folder / f"{sample.name}{OAFFORD_SUFFIX}"
        for p in (h, o):
            if not p.is_file():
                raise HoireconError(f"InteractVLM demo finished but wrote no {p}")
        details = {"files": {"hcontact": str(h), "oafford": str(o)}, "commands": cmds, "crop": list(sample.crop)}
        return Localization(source=self.name, human_prob=load_human_contacts(h, body),
                            object_prob=load_object_affordance(o, object_mesh), details=details,
                            precise=self.precise)  # fmt: skip
