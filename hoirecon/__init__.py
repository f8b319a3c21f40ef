"""hoirecon: one photo of a person using an object -> a metric 3D human + object scene."""

__version__ = "0.1.0"
