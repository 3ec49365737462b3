"""Random indoor scenes: a box room, a pinhole camera and a few objects.

World frame: metres, right-handed, **y up**; the floor is the plane
``y = 0``, the ceiling ``y = room_size[1]``, the walls are
``x = +-room_size[0] / 2`` and ``z = +-room_size[2] / 2``.

Camera frame (OpenCV): **x right, y down, z forward**. A world point ``X``
maps to the camera frame as ``R_world_to_cam @ (X - cam_position)`` and
to pixel ``(u, v)`` (integer pixel centres, ``u`` = column) as
``K @ X_cam / X_cam[2]``.

A scene is sampled from a seed only, independently of the image size, so
the same seed rendered at two resolutions shows the same room.
"""
import math
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

from .classes import CLASS_ID, IGNORE_LABEL

#: Default horizontal field of view in degrees (close to NYU's Kinect, whose
#: 640 px wide images have fx ~ 519, i.e. ~63 degrees).
DEFAULT_HFOV_DEG = 62.0

#: Instance ids reserved for the room surfaces (all walls share one id, so
#: wall-wall corners are not boundaries).
INSTANCE_WALLS, INSTANCE_FLOOR, INSTANCE_CEILING = 0, 1, 2

#: Texture kinds of a :class:`Material`.
TEXTURE_PLAIN, TEXTURE_STRIPES, TEXTURE_CHECKER, TEXTURE_NOISE = 0, 1, 2, 3

#: Base colours shared by all classes (RGB in [0, 1]); every surface draws
#: its colours from this list, so colour alone does not tell the class.
BASE_COLOURS = np.array([
    [0.90, 0.90, 0.88],  # white
    [0.68, 0.68, 0.70],  # light grey
    [0.30, 0.30, 0.32],  # dark grey
    [0.85, 0.78, 0.62],  # beige
    [0.76, 0.60, 0.42],  # light wood
    [0.42, 0.28, 0.18],  # dark wood
    [0.75, 0.20, 0.18],  # red
    [0.20, 0.35, 0.70],  # blue
    [0.30, 0.60, 0.30],  # green
    [0.90, 0.80, 0.30],  # yellow
    [0.20, 0.55, 0.55],  # teal
    [0.85, 0.55, 0.60],  # pink
    [0.90, 0.50, 0.20],  # orange
    [0.50, 0.30, 0.60],  # purple
], dtype=np.float64)


@dataclass
class Camera:
    """Pinhole camera.

    Attributes:
        position: Optical centre in world coordinates, shape ``(3,)``.
        R_world_to_cam: Rotation, rows are the camera x (right), y (down)
            and z (forward) axes in world coordinates, shape ``(3, 3)``.
        hfov_deg: Horizontal field of view in degrees; the focal length in
            pixels is ``fx = fy = (W / 2) / tan(hfov / 2)``.
        yaw, pitch, roll: The angles (radians) the rotation was built from;
            pitch < 0 looks down.
    """
    position: np.ndarray
    R_world_to_cam: np.ndarray
    hfov_deg: float = DEFAULT_HFOV_DEG
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0

    def intrinsics(self, height: int, width: int) -> np.ndarray:
        """The ``(3, 3)`` intrinsic matrix for an image of the given size.

        Pixel centres are at integer coordinates (OpenCV), so the principal
        point is ``((W - 1) / 2, (H - 1) / 2)``.
        """
        f = 0.5 * width / math.tan(math.radians(self.hfov_deg) / 2)
        return np.array([[f, 0.0, (width - 1) / 2.0],
                         [0.0, f, (height - 1) / 2.0],
                         [0.0, 0.0, 1.0]])


def look_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """World-to-camera rotation for a camera looking along ``yaw``/``pitch``.

    ``yaw`` turns about the world up axis (0 looks along +z), ``pitch``
    tilts the optical axis up (> 0) or down (< 0) and ``roll`` rotates the
    image about the optical axis.

    Returns:
        ``(3, 3)`` matrix whose rows are the camera right, down and forward
        axes expressed in world coordinates.
    """
    fwd = np.array([math.sin(yaw) * math.cos(pitch), math.sin(pitch),
                    math.cos(yaw) * math.cos(pitch)])
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    c, s = math.cos(roll), math.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    return np.stack([right, down, fwd])


@dataclass
class Material:
    """Procedural surface appearance (a solid texture in world space).

    Attributes:
        colour_a, colour_b: The two RGB albedos the texture mixes.
        kind: One of the ``TEXTURE_*`` constants.
        scale: Texture period in metres.
        direction: Unit vector; stripes run across it.
        base: Index in :data:`BASE_COLOURS` that ``colour_a`` was drawn from.
    """
    colour_a: np.ndarray
    colour_b: np.ndarray
    kind: int
    scale: float
    direction: np.ndarray
    base: int = 0


@dataclass
class Box:
    """Box standing upright, rotated by ``yaw`` about the vertical axis."""
    center: np.ndarray  # (3,) world
    half: np.ndarray    # (3,) half extents in the box frame
    yaw: float
    label: int
    instance: int
    material: int


@dataclass
class Cylinder:
    """Vertical cylinder with a top cap, from height ``y0`` to ``y1``."""
    center_xz: np.ndarray  # (2,)
    radius: float
    y0: float
    y1: float
    label: int
    instance: int
    material: int


@dataclass
class Sphere:
    """Sphere."""
    center: np.ndarray  # (3,)
    radius: float
    label: int
    instance: int
    material: int


@dataclass
class Decal:
    """Flat rectangle painted on a room surface (a picture or a rug).

    ``surface`` is ``'floor'`` or a wall given as ``(axis, side)`` with axis
    0 (x) or 2 (z) and side -1/+1. ``center``/``half`` are 2-D in the
    surface's own coordinates: ``(x, z)`` for the floor, ``(along-wall,
    height)`` for walls; ``yaw`` rotates a floor decal.
    """
    surface: object
    center: np.ndarray
    half: np.ndarray
    yaw: float
    label: int
    instance: int
    material: int


@dataclass
class Scene:
    """Everything the renderer needs."""
    room_size: np.ndarray  # (3,) x width, y height, z depth
    camera: Camera
    materials: List[Material]
    room_materials: Tuple[int, int, int]  # walls, floor, ceiling
    boxes: List[Box] = field(default_factory=list)
    cylinders: List[Cylinder] = field(default_factory=list)
    spheres: List[Sphere] = field(default_factory=list)
    decals: List[Decal] = field(default_factory=list)
    light_position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    light_intensity: float = 1.0
    ambient: float = 0.3
    white_balance: np.ndarray = field(default_factory=lambda: np.ones(3))
    noise_sigma: float = 0.01


def _random_material(rng: np.random.Generator) -> Material:
    """A material with colours from :data:`BASE_COLOURS`, jittered per
    instance, and a random procedural texture."""
    i, j = rng.integers(0, len(BASE_COLOURS), size=2)
    a = BASE_COLOURS[i] * rng.uniform(0.85, 1.15, size=3)
    if rng.random() < 0.5:  # two tones of the same colour
        b = a * rng.uniform(0.55, 0.8)
    else:
        b = BASE_COLOURS[j] * rng.uniform(0.85, 1.15, size=3)
    kind = int(rng.choice(4, p=[0.25, 0.25, 0.2, 0.3]))
    d = rng.normal(size=3)
    return Material(np.clip(a, 0, 1), np.clip(b, 0, 1), kind,
                    float(rng.uniform(0.12, 0.6)), d / np.linalg.norm(d), int(i))


class _Placer:
    """Keeps 2-D footprints (x, z, radius) free of overlaps."""

    def __init__(self, room_size: np.ndarray) -> None:
        self.hx, self.hz = room_size[0] / 2, room_size[2] / 2
        self.items: List[Tuple[float, float, float]] = []

    def free(self, x: float, z: float, r: float, in_room: bool = True) -> bool:
        """Whether the footprint overlaps nothing (and, if ``in_room``, lies
        inside the room)."""
        if in_room and (abs(x) + r > self.hx or abs(z) + r > self.hz):
            return False
        return all((x - a)**2 + (z - b)**2 > (r + c)**2
                   for a, b, c in self.items)

    def place(self, rng: np.random.Generator, r: float,
              tries: int = 25) -> Optional[Tuple[float, float]]:
        """Random free position for a footprint of radius ``r``, or
        ``None``."""
        for _ in range(tries):
            x = rng.uniform(-self.hx + r, self.hx - r) if self.hx > r else 0.0
            z = rng.uniform(-self.hz + r, self.hz - r) if self.hz > r else 0.0
            if self.free(x, z, r):
                self.items.append((x, z, r))
                return x, z
        return None


def sample_scene(seed: int, hfov_deg: float = DEFAULT_HFOV_DEG) -> Scene:
    """Sample a random room with objects and a camera inside it.

    Args:
        seed: Seed of the scene; the same seed gives the same scene.
        hfov_deg: Horizontal field of view of the camera.

    Returns:
        The :class:`Scene`. The image-noise settings it carries are used by
        the renderer; the renderer draws the noise itself from the seed.
    """
    rng = np.random.default_rng(seed)
    room = np.array([rng.uniform(3.5, 7.0), rng.uniform(2.4, 3.2),
                     rng.uniform(3.5, 7.0)])
    hx, h, hz = room[0] / 2, room[1], room[2] / 2
    materials: List[Material] = []

    def new_material() -> int:
        materials.append(_random_material(rng))
        return len(materials) - 1

    room_mats = (new_material(), new_material(), new_material())

    # camera position now; its orientation once the objects are placed
    cx, cz = rng.uniform(-hx + 0.3, hx - 0.3), rng.uniform(-hz + 0.3, hz - 0.3)
    cam_h = rng.uniform(1.0, 1.7)
    camera = Camera(np.array([cx, cam_h, cz]), np.eye(3), hfov_deg)

    placer = _Placer(room)
    placer.items.append((cx, cz, 0.6))  # keep objects off the camera
    scene = Scene(room, camera, materials, room_mats)
    next_instance = [3]

    def new_instance() -> int:
        next_instance[0] += 1
        return next_instance[0] - 1

    # table tops objects can stand on: (x, z, half w, half d, height, yaw)
    surfaces_on_top: List[Tuple[float, ...]] = []

    # table: a top and four legs, each its own primitive instance
    if rng.random() < 0.75:
        w, d = rng.uniform(0.4, 0.8), rng.uniform(0.3, 0.5)  # half sizes
        th = rng.uniform(0.65, 0.8)
        pos = placer.place(rng, math.hypot(w, d))
        if pos is not None:
            ty = rng.uniform(0, 2 * math.pi)
            mat = new_material()
            thick = rng.uniform(0.03, 0.06)
            scene.boxes.append(Box(np.array([pos[0], th - thick / 2, pos[1]]),
                                   np.array([w, thick / 2, d]), ty,
                                   CLASS_ID['table'], new_instance(), mat))
            leg = rng.uniform(0.025, 0.045)
            c, s = math.cos(ty), math.sin(ty)
            for sx, sz in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                lx, lz = sx * (w - leg - 0.02), sz * (d - leg - 0.02)
                wx, wz = c * lx + s * lz, -s * lx + c * lz
                scene.boxes.append(
                    Box(np.array([pos[0] + wx, (th - thick) / 2, pos[1] + wz]),
                        np.array([leg, (th - thick) / 2, leg]), ty,
                        CLASS_ID['table'], new_instance(), mat))
            surfaces_on_top.append((pos[0], pos[1], w, d, th, ty))

    # cabinets against walls
    for _ in range(int(rng.integers(0, 4))):
        axis = int(rng.integers(0, 2)) * 2  # wall normal along x or z
        side = 1 if rng.random() < 0.5 else -1
        wdt, dep = rng.uniform(0.25, 0.6), rng.uniform(0.18, 0.3)
        ht = rng.uniform(0.8, 2.0)
        along_half = hz if axis == 0 else hx
        along = rng.uniform(-along_half + wdt, along_half - wdt)
        across = side * ((hx if axis == 0 else hz) - dep - 0.01)
        x, z = (across, along) if axis == 0 else (along, across)
        r = math.hypot(wdt, dep)
        if not placer.free(x, z, r - 0.02, in_room=False):
            continue
        placer.items.append((x, z, r - 0.02))
        yaw_c = math.pi / 2 if axis == 0 else 0.0
        scene.boxes.append(Box(np.array([x, ht / 2, z]),
                               np.array([wdt, ht / 2, dep]), yaw_c,
                               CLASS_ID['cabinet'], new_instance(),
                               new_material()))

    table_items: List[Tuple[float, float, float]] = []

    def on_table(r: float) -> Optional[Tuple[float, float, float]]:
        """A free spot ``(x, z, height)`` on the table top for an object of
        footprint radius ``r``, or ``None`` (then it goes on the floor)."""
        if not surfaces_on_top or rng.random() < 0.6:
            return None
        x0, z0, w, d, top, t_yaw = surfaces_on_top[0]
        if w <= r or d <= r:
            return None
        for _ in range(10):
            lx, lz = rng.uniform(-w + r, w - r), rng.uniform(-d + r, d - r)
            if all((lx - a)**2 + (lz - b)**2 > (r + c)**2
                   for a, b, c in table_items):
                table_items.append((lx, lz, r))
                c, s = math.cos(t_yaw), math.sin(t_yaw)
                return x0 + c * lx + s * lz, z0 - s * lx + c * lz, top
        return None

    def add_box(label: int, lo: float, hi: float) -> None:
        half = rng.uniform(lo, hi, size=3)
        r = math.hypot(half[0], half[2])
        spot = on_table(r)
        if spot is None:
            pos = placer.place(rng, r)
            if pos is None:
                return
            spot = (pos[0], pos[1], 0.0)
        scene.boxes.append(Box(np.array([spot[0], spot[2] + half[1], spot[1]]),
                               half, rng.uniform(0, 2 * math.pi), label,
                               new_instance(), new_material()))

    def add_cylinder(label: int, rlo: float, rhi: float, hlo: float,
                     hhi: float) -> None:
        r, ht = rng.uniform(rlo, rhi), rng.uniform(hlo, hhi)
        spot = on_table(r)
        if spot is None:
            pos = placer.place(rng, r)
            if pos is None:
                return
            spot = (pos[0], pos[1], 0.0)
        scene.cylinders.append(Cylinder(np.array([spot[0], spot[1]]), r,
                                        spot[2], spot[2] + ht, label,
                                        new_instance(), new_material()))

    def add_sphere(label: int, lo: float, hi: float) -> None:
        r = rng.uniform(lo, hi)
        spot = on_table(r)
        if spot is None:
            pos = placer.place(rng, r)
            if pos is None:
                return
            spot = (pos[0], pos[1], 0.0)
        scene.spheres.append(Sphere(np.array([spot[0], spot[2] + r, spot[1]]),
                                    r, label, new_instance(), new_material()))

    for _ in range(int(rng.integers(2, 7))):
        add_box(CLASS_ID['box'], 0.12, 0.45)
    for _ in range(int(rng.integers(1, 4))):
        add_cylinder(CLASS_ID['cylinder'], 0.1, 0.32, 0.3, 1.2)
    for _ in range(int(rng.integers(1, 5))):
        add_sphere(CLASS_ID['sphere'], 0.1, 0.38)
    for _ in range(int(rng.integers(0, 3))):  # unlabelled clutter
        kind = rng.integers(0, 3)
        if kind == 0:
            add_box(IGNORE_LABEL, 0.04, 0.12)
        elif kind == 1:
            add_cylinder(IGNORE_LABEL, 0.03, 0.08, 0.08, 0.3)
        else:
            add_sphere(IGNORE_LABEL, 0.04, 0.1)

    # pictures on walls, rugs on the floor
    for _ in range(int(rng.integers(0, 4))):
        axis = int(rng.integers(0, 2)) * 2
        side = 1 if rng.random() < 0.5 else -1
        along_half = hz if axis == 0 else hx
        half = np.array([rng.uniform(0.25, 0.7), rng.uniform(0.2, 0.5)])
        if along_half <= half[0]:
            continue
        center = np.array([rng.uniform(-along_half + half[0],
                                       along_half - half[0]),
                           rng.uniform(1.2, min(2.0, h - half[1] - 0.05))])
        scene.decals.append(Decal((axis, side), center, half, 0.0,
                                  CLASS_ID['picture'], new_instance(),
                                  new_material()))
    if rng.random() < 0.5:
        half = np.array([rng.uniform(0.5, 1.2), rng.uniform(0.4, 1.0)])
        center = np.array([rng.uniform(-hx / 2, hx / 2),
                           rng.uniform(-hz / 2, hz / 2)])
        scene.decals.append(Decal('floor', center, half,
                                  rng.uniform(0, math.pi), CLASS_ID['rug'],
                                  new_instance(), new_material()))

    # camera orientation: mostly towards an object, else at a random point
    # at least ~1.5 m away; slightly downwards on average
    targets = [tuple(b.center) for b in scene.boxes if b.label != CLASS_ID['table']]
    targets += [(c.center_xz[0], (c.y0 + c.y1) / 2, c.center_xz[1])
                for c in scene.cylinders]
    targets += [tuple(sp.center) for sp in scene.spheres]
    if targets and rng.random() < 0.8:
        tx, ty, tz = targets[int(rng.integers(0, len(targets)))]
        pitch = math.atan2(ty - cam_h, math.hypot(tx - cx, tz - cz))
        pitch = float(np.clip(pitch + rng.uniform(-0.12, 0.2), -0.85, 0.1))
    else:
        for _ in range(20):
            tx, tz = rng.uniform(-hx, hx), rng.uniform(-hz, hz)
            if (tx - cx)**2 + (tz - cz)**2 > 1.5**2:
                break
        pitch = -math.radians(rng.uniform(-5.0, 40.0))
    yaw = math.atan2(tx - cx, tz - cz) + rng.uniform(-0.35, 0.35)
    roll = math.radians(rng.uniform(-8.0, 8.0))
    camera.R_world_to_cam = look_rotation(yaw, pitch, roll)
    camera.yaw, camera.pitch, camera.roll = yaw, pitch, roll

    # lighting and sensor
    scene.light_position = np.array([rng.uniform(-hx, hx) * 0.8, h - 0.15,
                                     rng.uniform(-hz, hz) * 0.8])
    scene.light_intensity = float(rng.uniform(0.7, 1.1))
    scene.ambient = float(rng.uniform(0.2, 0.45))
    scene.white_balance = rng.uniform(0.9, 1.1, size=3)
    scene.noise_sigma = float(rng.uniform(0.005, 0.03))
    return scene
