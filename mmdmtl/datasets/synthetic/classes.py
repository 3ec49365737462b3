"""Semantic classes of the procedurally rendered indoor scenes."""
from typing import Dict, List, Tuple

#: Class names; the index is the class id written into ``label/{i}.npy``.
SYNTHETIC_CLASSES: Tuple[str, ...] = (
    'floor',     # 0: room floor
    'wall',      # 1: the four room walls
    'ceiling',   # 2: room ceiling
    'table',     # 3: table top and legs
    'box',       # 4: boxes standing on the floor or on a table
    'cylinder',  # 5: vertical cylinders (bins, stools, vases)
    'sphere',    # 6: balls on the floor or on a table
    'cabinet',   # 7: tall boxes standing against a wall
    'picture',   # 8: flat frames hung on walls (no depth step)
    'rug',       # 9: flat rugs lying on the floor (no depth step)
)

#: Display colour (RGB, 0..255) of each class, for visualisers.
SYNTHETIC_PALETTE: List[List[int]] = [
    [140, 110, 80],   # floor
    [170, 170, 210],  # wall
    [230, 230, 160],  # ceiling
    [220, 60, 60],    # table
    [60, 160, 60],    # box
    [60, 100, 220],   # cylinder
    [240, 160, 40],   # sphere
    [160, 60, 180],   # cabinet
    [40, 200, 200],   # picture
    [200, 120, 160],  # rug
]

#: Label value of unlabelled pixels (small "clutter" objects), as in the
#: MTAN NYUv2 files.
IGNORE_LABEL: int = -1

#: ``{class name: class id}``.
CLASS_ID: Dict[str, int] = {name: i for i, name in enumerate(SYNTHETIC_CLASSES)}
