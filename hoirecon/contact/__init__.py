"""Contact stage: where on the body and on the object is the contact (InteractVLM's
Render-Localize-Lift, or the offline prior through the same lift).

Public API::

    from hoirecon.contact import ContactStageConfig, make_contact_source, infer_contacts
    source = make_contact_source(ContactStageConfig(source="prior"), body_model)
    contacts, localization = infer_contacts(source, image, detections, body, mesh, label)

Modules: ``config`` (settings), ``records`` (:class:`Localization`), ``base`` (:class:`ContactSource`),
``sources`` (the table ``CONTACT_SOURCES`` and the entry points), one module per source
(``prior_source``, ``interactvlm_import``, ``interactvlm_run``; InteractVLM's file formats and demo in
``interactvlm``), ``render`` / ``lift`` (the Render and Lift steps), ``selection`` (probabilities ->
ContactSet), ``priors`` (the category priors).

Importing the package (or ``hoirecon.contact.config``) stays light: the settings are imported here,
the rest (which brings torch, OpenCV, the body models' code) on first use of its name.
"""

from __future__ import annotations

from typing import Any

from hoirecon.contact.config import ContactConfig, ContactStageConfig, RLLConfig

__all__ = [
    "CONTACT_SOURCES",
    "ContactConfig",
    "ContactSource",
    "ContactStageConfig",
    "Localization",
    "RLLConfig",
    "check_contact_config",
    "infer_contacts",
    "make_contact_source",
]


def __getattr__(name: str) -> Any:
    """The heavier public names, imported on first use (PEP 562)."""
    if name in ("CONTACT_SOURCES", "check_contact_config", "infer_contacts", "make_contact_source"):
        from hoirecon.contact import sources

        return getattr(sources, name)
    if name == "ContactSource":
        from hoirecon.contact import base

        return base.ContactSource
    if name == "Localization":
        from hoirecon.contact import records

        return records.Localization
    raise AttributeError(f"module 'hoirecon.contact' has no attribute '{name}'")
