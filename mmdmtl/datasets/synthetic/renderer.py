"""Vectorised ray casting of a :class:`~.scene.Scene` into all task maps.

One ray per pixel is cast from the camera centre through the pixel centre.
Each primitive is intersected with all rays of its screen-space bounding
rectangle at once (numpy, no per-pixel Python loop) and the nearest hit
wins, which resolves occlusion. The hit gives, per pixel:

* ``depth``: the **z coordinate of the hit point in the camera frame**
  (distance along the optical axis, like NYU/Kinect depth), *not* the ray
  length, in metres; 0 where invalid;
* ``normal``: the unit surface normal in the **camera frame (OpenCV: x
  right, y down, z forward)**, oriented towards the camera
  (``normal . ray < 0``); the zero vector where invalid;
* ``label``: the semantic class id (:data:`~.classes.SYNTHETIC_CLASSES`),
  ``-1`` on unlabelled clutter;
* ``edge``: 1 on both sides of every change of class or of primitive
  instance between 4-neighbours (object, semantic and occlusion
  boundaries; all depth discontinuities are instance changes because every
  primitive is convex);
* ``image``: RGB in [0, 1]: procedural solid textures, Lambertian shading
  from a point light plus ambient, white balance, vignetting and Gaussian
  sensor noise.

Like a depth sensor, depth (and with it the normal) is invalid on surfaces
seen at grazing angles and in a few random blobs.
"""
import math
from typing import Dict, Optional, Tuple

import numpy as np

from .classes import CLASS_ID
from .scene import (
    INSTANCE_CEILING,
    INSTANCE_FLOOR,
    INSTANCE_WALLS,
    TEXTURE_CHECKER,
    TEXTURE_NOISE,
    TEXTURE_STRIPES,
    Scene,
    sample_scene,
)

_EPS = 1e-4
_GRAZING_COS = 0.06  # depth sensors return nothing below this |cos(angle)|
_MAX_DEPTH = 10.0

Rect = Tuple[slice, slice]


class _Hits:
    """Nearest-hit buffers of one image."""

    def __init__(self, height: int, width: int) -> None:
        self.t = np.full((height, width), np.inf, dtype=np.float32)
        self.normal = np.zeros((height, width, 3), dtype=np.float32)
        self.label = np.zeros((height, width), dtype=np.int16)
        self.instance = np.zeros((height, width), dtype=np.int32)
        self.material = np.zeros((height, width), dtype=np.int32)

    def update(self, rect: Rect, t: np.ndarray, nx: np.ndarray, ny: np.ndarray,
               nz: np.ndarray, label: int, instance: int,
               material: int) -> None:
        """Keep the hits ``t`` (``inf`` = miss) that are nearer than the
        current ones inside ``rect``."""
        cur = self.t[rect]
        closer = t < cur
        if not closer.any():
            return
        cur[closer] = t[closer]
        n = self.normal[rect]
        n[closer, 0] = nx[closer]
        n[closer, 1] = ny[closer]
        n[closer, 2] = nz[closer]
        self.label[rect][closer] = label
        self.instance[rect][closer] = instance
        self.material[rect][closer] = material


def _rotate(v: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``M @ v`` for every vector of ``v`` ``(..., 3)``, without BLAS (whose
    threads would oversubscribe the cores in worker processes)."""
    M = M.astype(np.float32)
    return np.stack([v[..., 0] * M[i, 0] + v[..., 1] * M[i, 1] + v[..., 2] * M[i, 2]
                     for i in range(3)], axis=-1)


def _screen_rect(corners: np.ndarray, scene: Scene, K: np.ndarray,
                 height: int, width: int) -> Optional[Rect]:
    """Pixel rectangle covering the projection of ``corners`` (world
    ``(N, 3)``); the whole image if some lie behind the camera, ``None`` if
    nothing is visible."""
    cam = scene.camera
    xc = (corners - cam.position) @ cam.R_world_to_cam.T
    z = xc[:, 2]
    if np.all(z <= 0.05):
        return None
    if np.any(z <= 0.05):
        return slice(0, height), slice(0, width)
    u = K[0, 0] * xc[:, 0] / z + K[0, 2]
    v = K[1, 1] * xc[:, 1] / z + K[1, 2]
    u0, u1 = max(int(math.floor(u.min())), 0), min(int(math.ceil(u.max())) + 1, width)
    v0, v1 = max(int(math.floor(v.min())), 0), min(int(math.ceil(v.max())) + 1, height)
    if u0 >= u1 or v0 >= v1:
        return None
    return slice(v0, v1), slice(u0, u1)


def _aabb_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The 8 corners of an axis-aligned box."""
    idx = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    return np.where(idx == 0, lo, hi)


def _cast_room(scene: Scene, origin: np.ndarray, dirs: np.ndarray,
               hits: _Hits) -> None:
    """Exit point of every ray from the room box (the camera is inside)."""
    hx, h, hz = scene.room_size[0] / 2, scene.room_size[1], scene.room_size[2] / 2
    dx, dy, dz = dirs[..., 0], dirs[..., 1], dirs[..., 2]
    tx = (np.where(dx > 0, hx, -hx) - origin[0]) / dx
    ty = (np.where(dy > 0, h, 0.0) - origin[1]) / dy
    tz = (np.where(dz > 0, hz, -hz) - origin[2]) / dz
    is_x = (tx <= ty) & (tx <= tz)
    is_y = ~is_x & (ty <= tz)
    is_z = ~is_x & ~is_y
    hits.t[...] = np.minimum(np.minimum(tx, ty), tz)
    hits.normal[..., 0] = np.where(is_x, -np.sign(dx), 0)
    hits.normal[..., 1] = np.where(is_y, -np.sign(dy), 0)
    hits.normal[..., 2] = np.where(is_z, -np.sign(dz), 0)
    floor = is_y & (dy < 0)
    ceiling = is_y & (dy > 0)
    wall_m, floor_m, ceil_m = scene.room_materials
    hits.label[...] = np.where(floor, CLASS_ID['floor'],
                               np.where(ceiling, CLASS_ID['ceiling'], CLASS_ID['wall']))
    hits.instance[...] = np.where(floor, INSTANCE_FLOOR,
                                  np.where(ceiling, INSTANCE_CEILING, INSTANCE_WALLS))
    hits.material[...] = np.where(floor, floor_m, np.where(ceiling, ceil_m, wall_m))

    if not scene.decals:
        return
    p = origin + hits.t[..., None] * dirs
    for dec in scene.decals:
        if dec.surface == 'floor':
            c, s = math.cos(dec.yaw), math.sin(dec.yaw)
            rx, rz = p[..., 0] - dec.center[0], p[..., 2] - dec.center[1]
            u, v = c * rx - s * rz, s * rx + c * rz
            on = floor
        else:
            axis, side = dec.surface
            along = p[..., 2] if axis == 0 else p[..., 0]
            u, v = along - dec.center[0], p[..., 1] - dec.center[1]
            on = (is_x if axis == 0 else is_z) & (np.sign(dirs[..., axis]) == side)
        inside = on & (np.abs(u) < dec.half[0]) & (np.abs(v) < dec.half[1])
        hits.label[inside] = dec.label
        hits.instance[inside] = dec.instance
        hits.material[inside] = dec.material


def _cast_boxes(scene: Scene, origin: np.ndarray, dirs: np.ndarray, K: np.ndarray,
                hits: _Hits) -> None:
    """Slab test against every box, in the box's yaw-rotated frame."""
    height, width = hits.t.shape
    for box in scene.boxes:
        c, s = math.cos(box.yaw), math.sin(box.yaw)
        ex = abs(c) * box.half[0] + abs(s) * box.half[2]
        ez = abs(s) * box.half[0] + abs(c) * box.half[2]
        ext = np.array([ex, box.half[1], ez])
        rect = _screen_rect(_aabb_corners(box.center - ext, box.center + ext),
                            scene, K, height, width)
        if rect is None:
            continue
        d = dirs[rect]
        rel = origin - box.center
        o = (c * rel[0] - s * rel[2], rel[1], s * rel[0] + c * rel[2])
        dl = (c * d[..., 0] - s * d[..., 2], d[..., 1], s * d[..., 0] + c * d[..., 2])
        tmin, tmax = [], []
        for a in range(3):
            inv = 1.0 / dl[a]
            t1 = (-box.half[a] - o[a]) * inv
            t2 = (box.half[a] - o[a]) * inv
            tmin.append(np.minimum(t1, t2))
            tmax.append(np.maximum(t1, t2))
        t_near = np.maximum(np.maximum(tmin[0], tmin[1]), tmin[2])
        t_far = np.minimum(np.minimum(tmax[0], tmax[1]), tmax[2])
        t = np.where((t_near <= t_far) & (t_near > _EPS), t_near, np.inf)
        ax_x = tmin[0] >= t_near
        ax_y = ~ax_x & (tmin[1] >= t_near)
        ax_z = ~ax_x & ~ax_y
        nlx = np.where(ax_x, -np.sign(dl[0]), 0)
        nly = np.where(ax_y, -np.sign(dl[1]), 0)
        nlz = np.where(ax_z, -np.sign(dl[2]), 0)
        hits.update(rect, t, c * nlx + s * nlz, nly, -s * nlx + c * nlz,
                    box.label, box.instance, box.material)


def _cast_cylinders(scene: Scene, origin: np.ndarray, dirs: np.ndarray,
                    K: np.ndarray, hits: _Hits) -> None:
    """Vertical cylinders: side wall plus top cap."""
    height, width = hits.t.shape
    for cyl in scene.cylinders:
        cx, cz, r = cyl.center_xz[0], cyl.center_xz[1], cyl.radius
        rect = _screen_rect(_aabb_corners(np.array([cx - r, cyl.y0, cz - r]),
                                          np.array([cx + r, cyl.y1, cz + r])),
                            scene, K, height, width)
        if rect is None:
            continue
        d = dirs[rect]
        dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
        ox, oz = origin[0] - cx, origin[2] - cz
        a = dx * dx + dz * dz
        b = ox * dx + oz * dz
        cc = ox * ox + oz * oz - r * r
        disc = b * b - a * cc
        with np.errstate(invalid='ignore'):
            t_side = (-b - np.sqrt(disc)) / a
        y = origin[1] + t_side * dy
        side_ok = (disc >= 0) & (t_side > _EPS) & (y >= cyl.y0) & (y <= cyl.y1)
        t_side = np.where(side_ok, t_side, np.inf)
        t_cap = (cyl.y1 - origin[1]) / dy
        px, pz = ox + t_cap * dx, oz + t_cap * dz
        cap_ok = (t_cap > _EPS) & (px * px + pz * pz <= r * r)
        t_cap = np.where(cap_ok, t_cap, np.inf)
        use_cap = t_cap < t_side
        t = np.minimum(t_side, t_cap)
        nx = np.where(use_cap, 0.0, (ox + t_side * dx) / r)
        nz = np.where(use_cap, 0.0, (oz + t_side * dz) / r)
        ny = np.where(use_cap, 1.0, 0.0)
        hits.update(rect, t, nx, ny, nz, cyl.label, cyl.instance, cyl.material)


def _cast_spheres(scene: Scene, origin: np.ndarray, dirs: np.ndarray,
                  dd: np.ndarray, K: np.ndarray, hits: _Hits) -> None:
    """Spheres (``dd`` = squared ray-direction norms)."""
    height, width = hits.t.shape
    for sph in scene.spheres:
        r = sph.radius
        rect = _screen_rect(_aabb_corners(sph.center - r, sph.center + r),
                            scene, K, height, width)
        if rect is None:
            continue
        d = dirs[rect]
        oc = origin - sph.center
        b = d[..., 0] * oc[0] + d[..., 1] * oc[1] + d[..., 2] * oc[2]
        a = dd[rect]
        disc = b * b - a * (oc @ oc - r * r)
        with np.errstate(invalid='ignore'):
            t = (-b - np.sqrt(disc)) / a
        t = np.where((disc >= 0) & (t > _EPS), t, np.inf)
        with np.errstate(invalid='ignore'):
            n = (oc + t[..., None] * d) / r
        hits.update(rect, t, n[..., 0], n[..., 1], n[..., 2], sph.label,
                    sph.instance, sph.material)


def _value_noise(q: np.ndarray) -> np.ndarray:
    """Smooth 3-D value noise in [0, 1] at points ``q`` ``(N, 3)``."""
    i = np.floor(q)
    f = q - i
    w = f * f * (3.0 - 2.0 * f)
    i = i.astype(np.int64)
    out = np.zeros(len(q), dtype=np.float32)
    for cx in (0, 1):
        for cy in (0, 1):
            for cz in (0, 1):
                h = ((i[:, 0] + cx) * 73856093) ^ ((i[:, 1] + cy) * 19349663) \
                    ^ ((i[:, 2] + cz) * 83492791)
                h = (h * 2654435761) & 0xFFFFFFFF
                val = ((h >> 12) & 0xFFFF).astype(np.float32) / 65535.0
                wt = (w[:, 0] if cx else 1 - w[:, 0]) * (w[:, 1] if cy else 1 - w[:, 1]) \
                    * (w[:, 2] if cz else 1 - w[:, 2])
                out += wt * val
    return out


def _albedo(scene: Scene, points: np.ndarray, normals: np.ndarray,
            material: np.ndarray) -> np.ndarray:
    """Per-pixel RGB albedo from the procedural solid textures."""
    mats = scene.materials
    col_a = np.array([m.colour_a for m in mats], dtype=np.float32)[material]
    col_b = np.array([m.colour_b for m in mats], dtype=np.float32)[material]
    kinds = np.array([m.kind for m in mats])[material]
    scale = np.array([m.scale for m in mats], dtype=np.float32)[material]
    direc = np.array([m.direction for m in mats], dtype=np.float32)[material]
    # sample slightly below the surface so planes never sit on a texture
    # cell border (which would flicker with rounding noise)
    q = (points - normals * (0.25 * scale[..., None])) / scale[..., None]
    mix = np.zeros(material.shape, dtype=np.float32)
    m = kinds == TEXTURE_STRIPES
    if m.any():
        s = np.sin(2 * np.pi * np.einsum('...c,...c->...', q[m], direc[m]))
        mix[m] = np.clip(0.5 + 2.0 * s, 0.0, 1.0)
    m = kinds == TEXTURE_CHECKER
    if m.any():
        mix[m] = np.floor(q[m]).sum(-1) % 2
    m = kinds == TEXTURE_NOISE
    if m.any():
        qm = q[m]
        nv = 0.65 * _value_noise(qm) + 0.35 * _value_noise(2.7 * qm + 11.3)
        mix[m] = np.clip((nv - 0.5) * 2.5 + 0.5, 0.0, 1.0)
    return col_a + mix[..., None] * (col_b - col_a)


def _sensor_holes(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A few random elliptical blobs where the depth sensor fails."""
    holes = np.zeros((height, width), dtype=bool)
    if rng.random() < 0.5:
        return holes
    vv, uu = np.mgrid[0:height, 0:width]
    for _ in range(int(rng.integers(1, 4))):
        cu, cv = rng.uniform(0, width), rng.uniform(0, height)
        ru, rv = rng.uniform(0.02, 0.06) * width, rng.uniform(0.02, 0.06) * width
        holes |= ((uu - cu) / ru)**2 + ((vv - cv) / rv)**2 < 1.0
    return holes


def boundary_map(label: np.ndarray, instance: np.ndarray) -> np.ndarray:
    """1 on both sides of every class or instance change between
    4-neighbours, else 0 (``uint8``)."""
    edge = np.zeros(label.shape, dtype=bool)
    dh = (label[:, 1:] != label[:, :-1]) | (instance[:, 1:] != instance[:, :-1])
    dv = (label[1:] != label[:-1]) | (instance[1:] != instance[:-1])
    edge[:, 1:] |= dh
    edge[:, :-1] |= dh
    edge[1:] |= dv
    edge[:-1] |= dv
    return edge.astype(np.uint8)


def render(scene: Scene, height: int, width: int,
           noise_seed: int = 0) -> Dict[str, np.ndarray]:
    """Ray cast ``scene`` into an image and all label maps.

    Args:
        scene: The scene (see :func:`~.scene.sample_scene`).
        height, width: Image size in pixels.
        noise_seed: Seed of the image noise and the depth-sensor holes.

    Returns:
        See :func:`render_scene`.
    """
    if height < 2 or width < 2:
        raise ValueError(f'image size must be at least 2x2, got {height}x{width}')
    cam = scene.camera
    K = cam.intrinsics(height, width)
    R = cam.R_world_to_cam
    origin = cam.position.astype(np.float64)
    # camera-frame ray directions with z = 1, so the ray parameter t of a
    # hit is its camera z-depth
    vv, uu = np.mgrid[0:height, 0:width].astype(np.float32)
    d_cam = np.stack([(uu - K[0, 2]) / K[0, 0], (vv - K[1, 2]) / K[1, 1],
                      np.ones_like(uu)], axis=-1)
    dirs = _rotate(d_cam, R.T)  # world frame
    dirs[np.abs(dirs) < 1e-7] = 1e-7  # no exact zeros in slab divisions
    dd = np.einsum('...c,...c->...', dirs, dirs)

    hits = _Hits(height, width)
    with np.errstate(all='ignore'):
        _cast_room(scene, origin, dirs, hits)
        _cast_boxes(scene, origin, dirs, K, hits)
        _cast_cylinders(scene, origin, dirs, K, hits)
        _cast_spheres(scene, origin, dirs, dd, K, hits)

    depth = hits.t
    n_world = hits.normal
    n_world /= np.maximum(np.linalg.norm(n_world, axis=-1, keepdims=True), 1e-12)
    flip = np.einsum('...c,...c->...', n_world, dirs) > 0
    n_world[flip] *= -1
    points = origin.astype(np.float32) + depth[..., None] * dirs

    # appearance
    rng = np.random.default_rng(noise_seed)
    albedo = _albedo(scene, points, n_world, hits.material)
    to_light = scene.light_position.astype(np.float32) - points
    dist2 = np.einsum('...c,...c->...', to_light, to_light)
    lambert = np.einsum('...c,...c->...', n_world, to_light) / np.sqrt(dist2)
    shade = scene.ambient * (0.85 + 0.15 * n_world[..., 1]) \
        + scene.light_intensity * np.clip(lambert, 0, None) * 1.6 / (1.0 + 0.12 * dist2)
    r2 = ((uu - K[0, 2])**2 + (vv - K[1, 2])**2) / (K[0, 2]**2 + K[1, 2]**2)
    image = albedo * (shade * (1.0 - 0.25 * r2))[..., None] \
        * scene.white_balance.astype(np.float32)
    image += rng.normal(0.0, scene.noise_sigma, size=image.shape).astype(np.float32)
    image = np.clip(image, 0.0, 1.0).astype(np.float32)

    # geometry in the camera frame, with sensor-like invalid pixels
    normal = _rotate(n_world, R)
    cos = -np.einsum('...c,...c->...', normal, d_cam) / np.linalg.norm(d_cam, axis=-1)
    invalid = (cos < _GRAZING_COS) | (depth > _MAX_DEPTH) | ~np.isfinite(depth) \
        | _sensor_holes(rng, height, width)
    depth = np.where(invalid, 0.0, depth).astype(np.float32)
    normal[invalid] = 0.0

    label = hits.label.astype(np.float32)
    return dict(
        image=image,
        label=label,
        depth=depth[..., None],
        normal=normal.astype(np.float32),
        edge=boundary_map(hits.label, hits.instance),
        instance=hits.instance.copy(),
        K=K,
        R_world_to_cam=R.copy(),
        cam_position=cam.position.copy(),
        room_size=scene.room_size.copy(),
    )


def render_scene(seed: int, height: int = 96, width: int = 128) -> Dict[str, np.ndarray]:
    """Sample the scene of ``seed`` and render it.

    Args:
        seed: Scene seed (non-negative int); the same seed gives identical
            arrays, and the scene itself does not depend on the image size.
        height, width: Image size (default 96x128, NYUD's 3:4 aspect).

    Returns:
        dict of numpy arrays:

        * ``image``: ``(H, W, 3)`` float32 RGB in [0, 1];
        * ``label``: ``(H, W)`` float32 class ids, ``-1`` = ignore;
        * ``depth``: ``(H, W, 1)`` float32 camera z-depth in metres,
          0 = invalid;
        * ``normal``: ``(H, W, 3)`` float32 unit normals in the camera frame
          (x right, y down, z forward), facing the camera; 0 = invalid;
        * ``edge``: ``(H, W)`` uint8 0/1 class / instance boundaries;
        * ``instance``: ``(H, W)`` int32 primitive instance ids (all walls
          share one id);
        * ``K``: ``(3, 3)`` intrinsics (integer pixel centres);
        * ``R_world_to_cam``: ``(3, 3)``; ``X_cam = R (X_world - C)``;
        * ``cam_position``: ``(3,)`` camera centre ``C`` (world, y up,
          floor at ``y = 0``);
        * ``room_size``: ``(3,)`` room extent along world x, y, z.
    """
    seed = int(seed)
    if seed < 0:
        raise ValueError(f'seed must be non-negative, got {seed}')
    return render(sample_scene(seed), int(height), int(width),
                  noise_seed=np.random.SeedSequence([seed, 1]).generate_state(1)[0])
