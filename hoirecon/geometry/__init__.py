"""Shared geometry, one place for each piece of math (import the sub-module you need; this package
imports nothing heavy by itself):

* :mod:`.projection`: the pinhole camera (camera frame -> pixels, pixel rays);
* :mod:`.frames`: the camera frame (x right, y down, z forward) <-> glTF/Blender (+Y up, -Z forward);
* :mod:`.mesh`: vertex normals, face areas, area-weighted surface samples;
* :mod:`.rotations`: 6D rotations, axis rotations, the 24 cube rotations;
* :mod:`.raycast`: open3d ray-casting scenes (Embree, CPU, no window), depth maps;
* :mod:`.sdf`: signed distances, exact and on a cached grid;
* :mod:`.torchops`: nearest distances (matched without autograd), trimmed means, image sampling (torch).
"""
