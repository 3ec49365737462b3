"""Write tiny multi-task datasets in each exact on-disk format (for tests)."""
import os
import os.path as osp
from typing import Dict, List

import cv2
import numpy as np
import scipy.io
from PIL import Image


def _mk(*parts: str) -> str:
    path = osp.join(*parts)
    os.makedirs(path, exist_ok=True)
    return path


def write_mtan(root: str, subset: str = 'train', n: int = 4, h: int = 12, w: int = 16,
               num_classes: int = 13, label_dir: str = 'label', with_normal: bool = True,
               with_edge: bool = False, seed: int = 0) -> Dict[str, List[np.ndarray]]:
    """MTAN / MTPSL ``{subset}/{image,label,depth,normal}/{i}.npy``.

    Images are float [0, 1] RGB, labels float with -1 = ignore, depth
    ``(H, W, 1)`` metres with 0 = invalid (and one NaN), normals in [-1, 1]
    with zero vectors where invalid.
    """
    rng = np.random.default_rng(seed)
    out = dict(image=[], label=[], depth=[], normal=[], edge=[])
    for i in range(n):
        img = rng.random((h, w, 3)).astype(np.float32)
        label = rng.integers(0, num_classes, (h, w)).astype(np.float32)
        label[0, :3] = -1
        depth = rng.uniform(0.5, 10, (h, w, 1)).astype(np.float32)
        depth[1, :2] = 0
        depth[2, 0] = np.nan
        np.save(osp.join(_mk(root, subset, 'image'), f'{i}.npy'), img)
        np.save(osp.join(_mk(root, subset, label_dir), f'{i}.npy'), label)
        np.save(osp.join(_mk(root, subset, 'depth'), f'{i}.npy'), depth)
        out['image'].append(img)
        out['label'].append(label)
        out['depth'].append(depth)
        if with_normal:
            normal = rng.normal(size=(h, w, 3)).astype(np.float32)
            normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
            normal[3, :4] = 0
            np.save(osp.join(_mk(root, subset, 'normal'), f'{i}.npy'), normal)
            out['normal'].append(normal)
        if with_edge:
            edge = (rng.random((h, w)) > 0.8).astype(np.float32)
            np.save(osp.join(_mk(root, subset, 'edge'), f'{i}.npy'), edge)
            out['edge'].append(edge)
    return out


def _write_png(path: str, arr: np.ndarray, rgb: bool = True) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if arr.ndim == 3 and rgb:
        arr = arr[..., ::-1]  # cv2 writes BGR
    assert cv2.imwrite(path, np.ascontiguousarray(arr)), path


def write_nyud_atrc(root: str, ids: List[str], subset: str = 'train', h: int = 12,
                    w: int = 16, seed: int = 0) -> Dict[str, Dict[str, np.ndarray]]:
    """ATRC NYUD: images/segmentation/normals/edge PNG, depth npy, gt_sets."""
    rng = np.random.default_rng(seed)
    out = {}
    for sid in ids:
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        seg = rng.integers(0, 41, (h, w), dtype=np.uint8)
        seg[0, 0] = 0
        seg[0, 1] = 1
        depth = rng.uniform(0.5, 10, (h, w)).astype(np.float32)
        normal = rng.normal(size=(h, w, 3))
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        normal_png = np.round((normal + 1) * 255 / 2).astype(np.uint8)
        edge = (rng.random((h, w)) > 0.8).astype(np.uint8) * 255
        _write_png(osp.join(root, 'images', sid + '.png'), img)
        _write_png(osp.join(root, 'segmentation', sid + '.png'), seg)
        _write_png(osp.join(root, 'normals', sid + '.png'), normal_png)
        _write_png(osp.join(root, 'edge', sid + '.png'), edge)
        os.makedirs(osp.join(root, 'depth'), exist_ok=True)
        np.save(osp.join(root, 'depth', sid + '.npy'), depth)
        out[sid] = dict(img=img, seg=seg, depth=depth, normal_png=normal_png, edge=edge)
    _mk(root, 'gt_sets')
    with open(osp.join(root, 'gt_sets', f'{subset}.txt'), 'w') as f:
        f.write('\n'.join(ids) + '\n')
    return out


def pascal_parts_mat(path: str, h: int, w: int, with_person: bool) -> np.ndarray:
    """Write a PASCAL-Part ``anno`` .mat; return the expected 6-part map."""
    part_dtype = [('part_name', 'O'), ('mask', 'O')]
    obj_dtype = [('class', 'O'), ('class_ind', 'O'), ('mask', 'O'), ('parts', 'O')]
    expected = np.zeros((h, w), dtype=np.uint8)
    objs = []
    dog_mask = np.zeros((h, w), dtype=np.uint8)
    dog_mask[-2:, -2:] = 1
    objs.append(('dog', np.array([[12]]), dog_mask, np.zeros((0, 0))))
    if with_person:
        body = np.zeros((h, w), dtype=np.uint8)
        body[2:8, 2:8] = 1
        names = [('hair', 1), ('torso', 2), ('luarm', 3), ('rhand', 4), ('ruleg', 5),
                 ('lfoot', 6)]
        parts = np.zeros((1, len(names)), dtype=part_dtype)
        for j, (name, cls) in enumerate(names):
            m = np.zeros((h, w), dtype=np.uint8)
            m[2 + j, 2:8] = 1
            parts[0, j] = (name, m)
            expected[m.astype(bool)] = cls
        objs.append(('person', np.array([[15]]), body, parts))
    objects = np.zeros((1, len(objs)), dtype=obj_dtype)
    for j, o in enumerate(objs):
        objects[0, j] = o
    anno = np.zeros((1, 1), dtype=[('imname', 'O'), ('objects', 'O')])
    anno[0, 0] = ('img', objects)
    os.makedirs(osp.dirname(path), exist_ok=True)
    scipy.io.savemat(path, {'anno': anno})
    return expected


def write_pascal_mt(root: str, ids: List[str], subset: str = 'train', h: int = 12,
                    w: int = 16, seed: int = 0) -> Dict[str, Dict[str, np.ndarray]]:
    """ATRC PASCAL_MT layout. The first id has its semseg under VOC12 and a
    person; the others use pascal-context semseg and have no person."""
    rng = np.random.default_rng(seed)
    out = {}
    for k, sid in enumerate(ids):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        seg = rng.integers(0, 21, (h, w), dtype=np.uint8)
        seg[0, 0] = 255
        sal = rng.integers(0, 256, (h, w), dtype=np.uint8)
        normal = rng.normal(size=(h, w, 3))
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        normal_png = np.round((normal + 1) * 255 / 2).astype(np.uint8)
        label_map = np.ones((h, w), dtype=np.uint16) * 7
        label_map[:, w // 2:] = 9
        _write_png(osp.join(root, 'JPEGImages', sid + '.jpg'), img)
        seg_dir = 'VOC12' if k == 0 else 'pascal-context'
        # palette PNG, as VOC / PASCAL-Context label maps are stored
        seg_path = osp.join(_mk(root, 'semseg', seg_dir), sid + '.png')
        seg_img = Image.fromarray(seg, mode='P')
        seg_img.putpalette(list(rng.integers(0, 256, 768, dtype=np.uint8)))
        seg_img.save(seg_path)
        _write_png(osp.join(root, 'sal_distill', sid + '.png'), sal)
        _write_png(osp.join(root, 'normals_distill', sid + '.png'), normal_png)
        parts = pascal_parts_mat(osp.join(root, 'human_parts', sid + '.mat'), h, w, k == 0)
        _mk(root, 'pascal-context', 'trainval')
        scipy.io.savemat(osp.join(root, 'pascal-context', 'trainval', sid + '.mat'),
                         {'LabelMap': label_map})
        edge_png = np.zeros((h, w), dtype=np.uint8)
        edge_png[:, w // 2] = 255
        _write_png(osp.join(root, 'edge', sid + '.png'), edge_png)
        out[sid] = dict(img=img, seg=seg, sal=sal, normal_png=normal_png, parts=parts,
                        label_map=label_map, has_person=(k == 0))
    _mk(root, 'ImageSets', 'Context')
    with open(osp.join(root, 'ImageSets', 'Context', f'{subset}.txt'), 'w') as f:
        f.write('\n'.join(ids) + '\n')
    return out
