"""Embedded, procedurally rendered indoor multi-task dataset.

:func:`render_scene` ray casts a random room with objects into an RGB image
and consistent semantic labels, depth, surface normals and edges;
:func:`ensure_synthetic_dataset` writes many of them in the MTAN NYUv2
``.npy`` layout (plus ``edge/``) into a cache folder, once.
"""
from .classes import IGNORE_LABEL, SYNTHETIC_CLASSES, SYNTHETIC_PALETTE
from .generate import (
    SyntheticDataRootError,
    ensure_synthetic_dataset,
    generation_name,
    is_complete_synthetic_dataset,
    scene_seed,
)
from .renderer import boundary_map, render, render_scene
from .scene import Camera, Scene, look_rotation, sample_scene

__all__ = [
    'SYNTHETIC_CLASSES', 'SYNTHETIC_PALETTE', 'IGNORE_LABEL', 'render_scene',
    'render', 'boundary_map', 'sample_scene', 'Scene', 'Camera',
    'look_rotation', 'ensure_synthetic_dataset', 'is_complete_synthetic_dataset',
    'scene_seed', 'generation_name', 'SyntheticDataRootError'
]
