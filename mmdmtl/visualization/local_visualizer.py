"""Visualiser drawing every task of a multi-task sample: ground truth beside
prediction, one row per task."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmengine.dist import master_only
from mmseg.visualization import SegLocalVisualizer

from mmdmtl.registry import VISUALIZERS
from mmdmtl.structures import TASKS, MTLDataSample, get_task, pixel_numpy

_TITLE_BG = (32, 32, 32)
_TEXT = (255, 255, 255)
_HATCH = ((70, 70, 70), (150, 150, 150))


def hatch(shape: Tuple[int, int], period: int = 8) -> np.ndarray:
    """A diagonal-stripe RGB pattern marking invalid / unlabelled pixels."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    stripes = ((yy + xx) // max(1, period // 2)) % 2
    out = np.empty((h, w, 3), dtype=np.uint8)
    out[stripes == 0] = _HATCH[0]
    out[stripes == 1] = _HATCH[1]
    return out


def default_palette(n: int) -> np.ndarray:
    """A deterministic, well-spread ``(n, 3)`` uint8 palette."""
    rng = np.random.RandomState(42)
    pal = rng.randint(40, 256, size=(max(n, 1), 3))
    pal[0] = (0, 0, 0) if n > 1 else pal[0]
    return pal.astype(np.uint8)


@VISUALIZERS.register_module()
class MTLLocalVisualizer(SegLocalVisualizer):
    """Draw a multi-task sample as a grid.

    The first row shows the input image and a legend. Then each task present
    in the data sample gets one row: ground truth on the left, prediction on
    the right, each panel titled. Maps are drawn as:

    * ``semseg`` / ``parts``: class colours (dataset palette; parts use
      ``dataset_meta['parts_palette']`` or a fixed generated palette)
      blended over the image;
    * ``sal`` / ``edge``: grey maps (probability or 0/1);
    * ``depth``: a colour map over the ground truth's valid range, with a
      colour bar in metres to the right of the row;
    * ``normal``: RGB = ``(n + 1) / 2``.

    Invalid or ignored pixels (ignore index, depth 0, zero normals) are
    shown with a grey diagonal hatch; a ground truth of an unlabelled task
    (``task_mask[task] is False``) is hatched entirely and titled
    ``unlabelled``.

    Args:
        name: Instance name.
        image: Optional initial image.
        vis_backends: Storage backends (e.g. ``[dict(type='LocalVisBackend')]``).
        save_dir: Directory for the backends.
        classes: Class names (else taken from ``dataset_meta``).
        palette: Semantic palette (else taken from ``dataset_meta``).
        dataset_name: mmseg dataset name for default classes / palette.
        alpha: Opacity of class colours over the image.
        depth_cmap: Matplotlib colour map name for depth.
        **kwargs: Other :class:`mmengine.visualization.Visualizer` arguments.

    Example:
        >>> visualizer = dict(type='MTLLocalVisualizer',
        ...                   vis_backends=[dict(type='LocalVisBackend')],
        ...                   name='visualizer')
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[List[Dict]] = None,
                 save_dir: Optional[str] = None,
                 classes: Optional[List] = None,
                 palette: Optional[List] = None,
                 dataset_name: Optional[str] = None,
                 alpha: float = 0.6,
                 depth_cmap: str = 'magma',
                 **kwargs) -> None:
        super().__init__(name, image, vis_backends, save_dir, classes, palette, dataset_name,
                         alpha, **kwargs)
        # mmseg 1.2.2's __init__ passes (palette, classes) swapped; set them right.
        self.set_dataset_meta(classes, palette, dataset_name)
        import matplotlib
        self.depth_cmap = depth_cmap
        self._depth_lut = (np.asarray(matplotlib.colormaps[depth_cmap](np.linspace(0, 1, 256)))
                           [:, :3] * 255).astype(np.uint8)

    # ------------------------------------------------------------ geometry
    @staticmethod
    def title_height(panel_h: int) -> int:
        """Height of the title strip above each row of panels."""
        return max(18, panel_h // 12)

    @staticmethod
    def colorbar_width(panel_w: int) -> int:
        """Width of the depth colour-bar column."""
        return max(64, panel_w // 5)

    # ------------------------------------------------------------- drawing
    def _text(self, img: np.ndarray, text: str, org: Tuple[int, int], height: int,
              color=_TEXT) -> None:
        """Write ``text`` at ``org``, shrunk to fit the image width."""
        thick = 1 if height < 40 else 2
        scale = max(0.3, height / 40.0)
        (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        room = img.shape[1] - org[0] - 2
        if tw > room > 0:
            scale *= room / tw
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thick, cv2.LINE_AA)

    def _titled(self, panel: np.ndarray, title: str) -> np.ndarray:
        th = self.title_height(panel.shape[0])
        strip = np.empty((th, panel.shape[1], 3), dtype=np.uint8)
        strip[:] = _TITLE_BG
        self._text(strip, title, (4, int(th * 0.75)), th)
        return np.concatenate([strip, panel], axis=0)

    def _message_panel(self, shape: Tuple[int, int], text: str) -> np.ndarray:
        panel = hatch(shape)
        h, w = shape
        th = self.title_height(h)
        scale = max(0.4, th / 30.0)
        (tw, tht), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        x, y = max(2, (w - tw) // 2), (h + tht) // 2
        cv2.rectangle(panel, (x - 4, y - tht - 6), (x + tw + 4, y + 6), _TITLE_BG, -1)
        cv2.putText(panel, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, _TEXT, 2,
                    cv2.LINE_AA)
        return panel

    @staticmethod
    def _apply_invalid(panel: np.ndarray, invalid: np.ndarray) -> np.ndarray:
        if invalid is not None and invalid.any():
            panel = panel.copy()
            panel[invalid] = hatch(invalid.shape)[invalid]
        return panel

    def _palette_for(self, palette_key: str, num: int) -> np.ndarray:
        meta = self.dataset_meta or {}
        pal = meta.get(palette_key)
        pal = np.asarray(pal, dtype=np.int64) if pal is not None and len(pal) else None
        if pal is None or pal.ndim != 2 or len(pal) < num:
            base = default_palette(max(num, 0 if pal is None else len(pal)))
            if pal is not None and pal.ndim == 2:
                base[:len(pal)] = pal
            pal = base
        return pal.astype(np.uint8)

    def draw_label_map(self, labels: np.ndarray, image: np.ndarray, invalid_value: float,
                       palette_key: str = 'palette') -> np.ndarray:
        """Class colours of ``labels`` (``(H, W)`` or ``(1, H, W)``) blended
        over ``image``; ``invalid_value`` and unknown labels hatched. Colours
        come from ``dataset_meta[palette_key]``, completed by a fixed
        generated palette."""
        labels = labels.reshape(labels.shape[-2:]).astype(np.int64)
        invalid = (labels < 0) | (labels == invalid_value)
        valid_max = int(labels[~invalid].max()) + 1 if (~invalid).any() else 1
        pal = self._palette_for(palette_key, valid_max)
        invalid |= labels >= len(pal)
        colour = pal[np.clip(labels, 0, len(pal) - 1)]
        out = (image.astype(np.float32) * (1 - self.alpha) + colour * self.alpha).astype(np.uint8)
        return self._apply_invalid(out, invalid)

    def draw_grey_map(self, data: np.ndarray, invalid_value: float) -> np.ndarray:
        """A grey picture of values in [0, 1] (``(H, W)`` or ``(1, H, W)``);
        ``invalid_value`` hatched."""
        data = data.reshape(data.shape[-2:]).astype(np.float32)
        invalid = data == invalid_value
        grey = (np.clip(np.where(invalid, 0, data), 0, 1) * 255).astype(np.uint8)
        return self._apply_invalid(np.repeat(grey[..., None], 3, axis=2), invalid)

    def draw_colour_map(self, data: np.ndarray, vrange: Tuple[float, float],
                        invalid: Optional[np.ndarray] = None) -> np.ndarray:
        """The visualiser's colour map (``depth_cmap``) of a scalar map over
        ``vrange``; ``invalid`` pixels (and non-finite ones) hatched."""
        data = data.reshape(data.shape[-2:]).astype(np.float32)
        bad = ~np.isfinite(data)
        if invalid is not None:
            bad |= np.asarray(invalid).reshape(data.shape)
        lo, hi = vrange
        norm = np.clip((np.nan_to_num(data) - lo) / max(hi - lo, 1e-6), 0, 1)
        return self._apply_invalid(self._depth_lut[(norm * 255).astype(np.int64)], bad)

    def draw_vector_map(self, data: np.ndarray) -> np.ndarray:
        """RGB = ``(n + 1) / 2`` of the unit vectors of a ``(3, H, W)`` map;
        zero vectors hatched."""
        data = np.nan_to_num(data.reshape(3, *data.shape[-2:]).astype(np.float32))
        norm = np.linalg.norm(data, axis=0)
        invalid = norm <= 0
        unit = data / np.maximum(norm, 1e-12)
        rgb = ((unit + 1) / 2 * 255).clip(0, 255).astype(np.uint8).transpose(1, 2, 0)
        return self._apply_invalid(rgb, invalid)

    def _colorbar(self, height: int, width: int, vrange: Tuple[float, float],
                  unit: str = '') -> np.ndarray:
        bar = np.empty((height, width, 3), dtype=np.uint8)
        bar[:] = _TITLE_BG
        th = self.title_height(height)
        top, bottom = th, height - th
        x0, x1 = 4, 4 + max(8, width // 4)
        if bottom > top:
            ramp = np.linspace(1, 0, bottom - top)
            bar[top:bottom, x0:x1] = self._depth_lut[(ramp * 255).astype(np.int64)][:, None]
        self._text(bar, f'{vrange[1]:.2f}', (x0, max(top - 4, 10)), int(th * 0.8))
        self._text(bar, f'{vrange[0]:.2f}', (x0, min(height - 4, bottom + th - 4)),
                   int(th * 0.8))
        self._text(bar, unit, (x1 + 4, (top + bottom) // 2), int(th * 0.8))
        return bar

    def _legend(self, shape: Tuple[int, int]) -> np.ndarray:
        h, w = shape
        panel = np.empty((h, w, 3), dtype=np.uint8)
        panel[:] = _TITLE_BG
        th = min(self.title_height(h), max(4, h // 4))
        swatch = panel[th // 2:th // 2 + th, 6:6 + th]
        swatch[:] = hatch(swatch.shape[:2])
        lines = [((12 + th, th // 2 + th - 3), '= invalid / unlabelled'),
                 ((6, 2 * th + th // 2 + 2), 'left: ground truth'),
                 ((6, 3 * th + th // 2 + 6), 'right: prediction')]
        for org, text in lines:
            if org[1] < h and org[0] < w - 4:
                self._text(panel, text, org, th)
        return panel

    # --------------------------------------------------------------- tasks
    def sample_tasks(self, data_sample: Any, tasks: Optional[Sequence[str]] = None) -> List[str]:
        """Tasks of ``data_sample`` with a ground truth or a prediction."""
        names = list(tasks) if tasks is not None else list(TASKS)
        if data_sample is None:
            return []
        sample = MTLDataSample.wrap(data_sample)
        return [t for t in names if sample.has_gt(t) or sample.has_pred(t)]

    def _panel(self, task: str, data: Optional[np.ndarray], image: np.ndarray,
               vrange: Tuple[float, float], missing: str) -> np.ndarray:
        shape = image.shape[:2]
        if data is None:
            return self._message_panel(shape, missing)
        return self.draw_task(task, data, image, vrange)

    def draw_task(self, task: str, data: Any, image: np.ndarray,
                  vrange: Optional[Tuple[float, float]] = None) -> np.ndarray:
        """Draw one task's map as an RGB picture of ``image``'s size.

        Semantic / part labels are class colours blended over ``image``,
        edges / saliency grey maps, depth a colour map over ``vrange``,
        normals ``(n + 1) / 2``; invalid pixels are hatched (see the class
        docstring). This is the drawing used for every panel of
        :meth:`add_datasample`.

        Args:
            task: Task name (see :mod:`mmdmtl.structures.tasks`).
            data: The map in the data-sample layout (``PixelData``, tensor
                or array): ``(H, W)`` or ``(1, H, W)``; normals
                ``(3, H, W)``.
            image: ``(H, W, 3)`` RGB ``uint8`` image (the background of
                label maps; its size must equal the map's).
            vrange: ``(min, max)`` of the depth colour map in metres;
                ``None``: the range of the map's valid (finite, > 0) values.
                Ignored by the other tasks.

        Returns:
            The ``(H, W, 3)`` RGB ``uint8`` picture.

        Raises:
            ValueError: the map's size differs from the image's.
        """
        data = pixel_numpy(data)
        shape = image.shape[:2]
        if data is None or data.shape[-2:] != shape:
            raise ValueError(f'MTLLocalVisualizer: {task} map of size '
                             f'{None if data is None else data.shape[-2:]} '
                             f'differs from the panel size {shape}')
        return get_task(task).draw(self, data, image, vrange)

    def _draw_row(self, task: str, gt: Any, pred: Any, image: np.ndarray,
                  vrange: Optional[Tuple[float, float]], labelled: bool,
                  colorbar_width: int) -> List[np.ndarray]:
        """Titled panels of one task: ground truth and prediction (``False``:
        column not drawn; ``None``: missing) and, for tasks drawn over a
        value range, the colour bar."""
        shape = image.shape[:2]
        row = []
        if gt is not False:
            if not labelled:
                row.append(self._titled(self._message_panel(shape, 'unlabelled'),
                                        f'{task} GT (unlabelled)'))
            else:
                row.append(self._titled(self._panel(task, gt, image, vrange, 'no ground truth'),
                                        f'{task} GT'))
        if pred is not False:
            row.append(self._titled(self._panel(task, pred, image, vrange, 'no prediction'),
                                    f'{task} prediction'))
        if vrange is not None:
            bar = self._colorbar(shape[0], colorbar_width, vrange, get_task(task).unit)
            row.append(self._titled(bar, task))
        return row

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Any = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True,
                       tasks: Optional[Sequence[str]] = None) -> np.ndarray:
        """Draw the image and every task's ground truth / prediction.

        Args:
            name: Image identifier (window name / backend key).
            image: ``(H, W, 3)`` RGB uint8 image (resized to the maps' size
                when they differ).
            data_sample: :class:`SegDataSample` (or its ``to_dict()``) with
                the task fields of :mod:`mmdmtl.structures.tasks`.
            draw_gt: Draw the ground-truth column.
            draw_pred: Draw the prediction column.
            show: Display the picture in a window instead of storing it.
            wait_time: Seconds to wait when showing.
            out_file: Write the picture (PNG/JPG) here instead of sending it
                to the storage backends.
            step: Global step for the backends.
            with_labels: Unused; kept for mmseg's signature.
            tasks: Restrict to these tasks (default: every task present).

        Returns:
            The drawn RGB picture.
        """
        image = np.ascontiguousarray(image[..., :3]).astype(np.uint8)
        task_list = self.sample_tasks(data_sample, tasks)
        sample = MTLDataSample.wrap(data_sample) if data_sample is not None else MTLDataSample()
        maps: Dict[str, Tuple[Optional[np.ndarray], Optional[np.ndarray]]] = {
            t: (sample.gt_numpy(t), sample.pred_numpy(t)) for t in task_list}
        shape = image.shape[:2]
        for gt, pred in maps.values():
            ref = gt if gt is not None else pred
            if ref is not None:
                shape = tuple(ref.shape[-2:])
                break
        if image.shape[:2] != shape:
            image = cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        pw = shape[1]
        cols = int(bool(draw_gt)) + int(bool(draw_pred))
        if cols == 0:
            raise ValueError('MTLLocalVisualizer: draw_gt and draw_pred are both False')
        ranges = {t: get_task(t).value_range(gt, pred) for t, (gt, pred) in maps.items()}
        cb_w = self.colorbar_width(pw) if any(r is not None for r in ranges.values()) else 0
        rows = []
        header = [self._titled(image, f'image {name}')]
        if cols == 2:
            header.append(self._titled(self._legend(shape), 'legend'))
        rows.append(header)
        for t, (gt, pred) in maps.items():
            labelled = sample.is_labelled(t) if sample.has_task_mask() else True
            rows.append(self._draw_row(t, gt if draw_gt else False, pred if draw_pred else False,
                                       image, ranges[t], labelled, cb_w))
        width = cols * pw + cb_w
        lines = []
        for row in rows:
            line = np.concatenate(row, axis=1)
            if line.shape[1] < width:
                pad = np.zeros((line.shape[0], width - line.shape[1], 3), dtype=np.uint8)
                pad[:] = _TITLE_BG
                line = np.concatenate([line, pad], axis=1)
            lines.append(line)
        drawn = np.concatenate(lines, axis=0)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
        return drawn
