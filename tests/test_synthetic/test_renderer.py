"""Consistency of the procedurally rendered scenes (small images)."""
import numpy as np
import pytest

from mmdmtl.datasets.synthetic import (
    IGNORE_LABEL,
    SYNTHETIC_CLASSES,
    SYNTHETIC_PALETTE,
    render_scene,
    sample_scene,
)
from mmdmtl.datasets.synthetic.classes import CLASS_ID

H, W = 48, 64
SEEDS = list(range(8))


@pytest.fixture(scope='module')
def renders():
    return {s: render_scene(s, H, W) for s in SEEDS}


def _back_project(out):
    """Camera-frame and world-frame 3-D points of every pixel."""
    K = out['K']
    vv, uu = np.mgrid[0:H, 0:W].astype(np.float64)
    rays = np.stack([(uu - K[0, 2]) / K[0, 0], (vv - K[1, 2]) / K[1, 1], np.ones_like(uu)], -1)
    x_cam = rays * out['depth'].astype(np.float64)
    x_world = x_cam @ out['R_world_to_cam'] + out['cam_position']
    return x_cam, x_world


def test_classes_and_palette():
    assert len(SYNTHETIC_CLASSES) >= 8
    assert len(set(SYNTHETIC_CLASSES)) == len(SYNTHETIC_CLASSES)
    assert len(SYNTHETIC_PALETTE) == len(SYNTHETIC_CLASSES)
    assert all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in SYNTHETIC_PALETTE)


def test_deterministic():
    a, b = render_scene(3, H, W), render_scene(3, H, W)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    c = render_scene(4, H, W)
    assert not np.array_equal(a['image'], c['image'])
    assert not np.array_equal(a['depth'], c['depth'])


def test_scene_independent_of_resolution():
    small, big = render_scene(11, H, W), render_scene(11, 2 * H, 2 * W)
    np.testing.assert_array_equal(small['R_world_to_cam'], big['R_world_to_cam'])
    np.testing.assert_array_equal(small['room_size'], big['room_size'])
    assert big['image'].shape == (2 * H, 2 * W, 3)


def test_shapes_dtypes_ranges(renders):
    seen = set()
    for out in renders.values():
        assert out['image'].shape == (H, W, 3) and out['image'].dtype == np.float32
        assert out['image'].min() >= 0 and out['image'].max() <= 1
        assert out['image'].std() > 0.02  # not flat
        assert out['label'].shape == (H, W) and out['label'].dtype == np.float32
        labels = np.unique(out['label'])
        assert set(labels.tolist()) <= set(range(-1, len(SYNTHETIC_CLASSES)))
        seen |= set(labels.tolist())
        assert out['depth'].shape == (H, W, 1) and out['depth'].dtype == np.float32
        depth = out['depth'][..., 0]
        assert depth.min() >= 0 and depth.max() < 12
        assert (depth > 0).mean() > 0.8  # only a few sensor holes
        assert out['normal'].shape == (H, W, 3) and out['normal'].dtype == np.float32
        norm = np.linalg.norm(out['normal'], axis=-1)
        valid = depth > 0
        np.testing.assert_allclose(norm[valid], 1.0, atol=1e-4)
        assert np.all(out['normal'][~valid] == 0)  # invalid normal <=> invalid depth
        assert out['edge'].shape == (H, W) and out['edge'].dtype == np.uint8
        assert set(np.unique(out['edge']).tolist()) <= {0, 1}
        assert 0 < out['edge'].mean() < 0.4
    # several classes, including objects, across a few scenes
    assert len(seen - {IGNORE_LABEL}) >= 6


def test_normals_face_camera(renders):
    for out in renders.values():
        x_cam, _ = _back_project(out)
        valid = out['depth'][..., 0] > 0
        dots = np.einsum('...c,...c->...', out['normal'], x_cam)[valid]
        assert np.all(dots < 0)


def test_room_normals_in_world_frame(renders):
    """Floor normals rotated back to the world point up, ceiling down, walls
    horizontal, whatever the camera pitch/roll/yaw."""
    for out in renders.values():
        valid = out['depth'][..., 0] > 0
        n_world = out['normal'] @ out['R_world_to_cam']  # R^T n per pixel
        lab = out['label']
        for name, expect_y in (('floor', 1.0), ('rug', 1.0), ('ceiling', -1.0)):
            m = valid & (lab == CLASS_ID[name])
            np.testing.assert_allclose(n_world[m, 1], expect_y, atol=1e-4)
        walls = valid & (lab == CLASS_ID['wall'])
        np.testing.assert_allclose(n_world[walls, 1], 0.0, atol=1e-4)
    # the camera really is rotated (otherwise the test above is trivial)
    assert any(abs(out['R_world_to_cam'][1, 1] - 1) > 0.05 for out in renders.values())


def test_floor_depth_consistent_with_normal(renders):
    """Back-projected floor pixels lie on the plane n . X = -camera height."""
    checked = 0
    for out in renders.values():
        valid = out['depth'][..., 0] > 0
        floor = valid & (out['label'] == CLASS_ID['floor'])
        if floor.sum() < 10:
            continue
        x_cam, x_world = _back_project(out)
        np.testing.assert_allclose(x_world[floor, 1], 0.0, atol=2e-3)
        n_dot_x = np.einsum('...c,...c->...', out['normal'], x_cam)[floor]
        np.testing.assert_allclose(n_dot_x, -out['cam_position'][1], atol=2e-3)
        checked += 1
    assert checked >= 4


def test_sphere_geometry():
    """Sphere pixels lie on the sphere and their normals are radial."""
    checked = 0
    for seed in range(12):
        scene = sample_scene(seed)
        out = render_scene(seed, H, W)
        _, x_world = _back_project(out)
        n_world = out['normal'] @ out['R_world_to_cam']
        valid = out['depth'][..., 0] > 0
        for sph in scene.spheres:
            m = valid & (out['instance'] == sph.instance)
            if m.sum() < 5:
                continue
            radial = x_world[m] - sph.center
            np.testing.assert_allclose(np.linalg.norm(radial, axis=-1), sph.radius, atol=2e-3)
            np.testing.assert_allclose(n_world[m], radial / sph.radius, atol=1e-2)
            checked += 1
    assert checked >= 3


def test_edges_on_discontinuities(renders):
    """Every edge pixel has a 4-neighbour of another class, another object
    instance, or across a depth jump; every class change is an edge."""
    for out in renders.values():
        lab, inst, edge = out['label'], out['instance'], out['edge'].astype(bool)
        depth = out['depth'][..., 0]
        explained = np.zeros_like(edge)
        for axis in (0, 1):
            a = [slice(None)] * 2
            b = [slice(None)] * 2
            a[axis], b[axis] = slice(1, None), slice(None, -1)
            a, b = tuple(a), tuple(b)
            za, zb = depth[a], depth[b]
            jump = (za > 0) & (zb > 0) & (np.abs(za - zb) > 0.05 * np.minimum(za, zb))
            diff = (lab[a] != lab[b]) | (inst[a] != inst[b]) | jump
            explained[a] |= diff
            explained[b] |= diff
            class_change = lab[a] != lab[b]
            assert np.all(edge[a][class_change]) and np.all(edge[b][class_change])
        assert np.all(explained[edge])


def test_colour_does_not_give_class():
    """Base colours are shared between classes across scenes."""
    used = {name: set() for name in ('floor', 'wall', 'box', 'sphere', 'cylinder', 'table')}
    for seed in range(40):
        scene = sample_scene(seed)
        wall_m, floor_m, _ = scene.room_materials
        used['wall'].add(scene.materials[wall_m].base)
        used['floor'].add(scene.materials[floor_m].base)
        for prims in (scene.boxes, scene.cylinders, scene.spheres):
            for p in prims:
                name = SYNTHETIC_CLASSES[p.label] if p.label >= 0 else None
                if name in used:
                    used[name].add(scene.materials[p.material].base)
    for name, bases in used.items():
        assert len(bases) >= 8, (name, bases)
    names = list(used)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert used[a] & used[b], (a, b)


def test_bad_input():
    with pytest.raises(ValueError, match='seed'):
        render_scene(-1, H, W)
    with pytest.raises(ValueError, match='size'):
        render_scene(0, 1, W)
