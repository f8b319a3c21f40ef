"""Perception: find the person (MediaPipe Pose) and segment the object (GrabCut / user mask)."""

from hoirecon.perception.objects import segment_object
from hoirecon.perception.person import detect_person

__all__ = ["detect_person", "segment_object"]
