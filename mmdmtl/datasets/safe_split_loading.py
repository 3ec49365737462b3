"""Reading split files without running code from them.

Split files are data that users download (the published MTPSL / DiffusionMTL
files) or receive from others, and can also be named on the command line
(``--cfg-options train_dataloader.dataset.split_file=...``). Plain
unpickling of such a file executes whatever the pickle asks for, so neither
``np.load(..., allow_pickle=True)`` nor ``torch.load(..., weights_only=False)``
is used here:

* :func:`load_npy_safely` reads numeric ``.npy`` files with
  ``allow_pickle=False``; an object array (the published PASCAL files hold a
  0-d object array with a ``{task: [image ids]}`` dict) is unpickled by
  :class:`RestrictedNumpyUnpickler`, which resolves only the numpy globals
  such an array needs (array reconstruction, ``dtype``, numpy scalars) and
  refuses every other global (``os.system``, ``builtins.eval``, ...);
* :func:`torch_load_safely` uses ``torch.load(weights_only=True)`` with an
  allow-list of the numpy globals that ``torch.save`` writes for numpy
  number scalars (DiffusionMTL's ``new_*.pth`` hold lists of ``np.int64``),
  under both their numpy-1 (``numpy.core.multiarray.scalar``) and numpy-2
  (``numpy._core.multiarray.scalar``) names.
"""
import codecs
import os
import pickle
from typing import Any, Callable, Dict, List, Tuple, Union

import numpy as np

PathLike = Union[str, os.PathLike]


def _multiarray_function(name: str) -> Callable:
    """``numpy._core.multiarray.<name>`` (numpy 2) or ``numpy.core...``."""
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray  # type: ignore[no-redef]
    return getattr(multiarray, name)


_RECONSTRUCT = _multiarray_function('_reconstruct')
_SCALAR = _multiarray_function('scalar')

#: ``(module, name)`` of every global a pickled numpy array of
#: strings / numbers / dicts / lists may reference, and what it resolves to.
#: Both the numpy-1 and the numpy-2 module names are accepted; ``_codecs.
#: encode`` is how pickle protocol 2 writes ``bytes`` (a pure function).
NPY_PICKLE_ALLOWED_GLOBALS: Dict[Tuple[str, str], Any] = {
    ('numpy.core.multiarray', '_reconstruct'): _RECONSTRUCT,
    ('numpy._core.multiarray', '_reconstruct'): _RECONSTRUCT,
    ('numpy.core.multiarray', 'scalar'): _SCALAR,
    ('numpy._core.multiarray', 'scalar'): _SCALAR,
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
    ('_codecs', 'encode'): codecs.encode,
}

#: dtype characters of the numpy scalars a split file may hold (bool, ints,
#: floats, and unicode strings for image ids taken from numpy arrays); their
#: dtype classes are allowed for ``torch.load``.
_SCALAR_DTYPE_CHARS = '?bBhHiIlLqQefdU'


class UnsafeSplitFileError(pickle.UnpicklingError, ValueError):
    """A split file asks the unpickler for a global outside the allow-list.

    Also a :class:`ValueError`, like every other unreadable split file.
    """


class RestrictedNumpyUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`NPY_PICKLE_ALLOWED_GLOBALS`.

    Args:
        file: Binary file object positioned at the pickle stream.
        source: File name used in error messages.
    """

    def __init__(self, file, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        """Resolve an allowed global; refuse everything else."""
        try:
            return NPY_PICKLE_ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafeSplitFileError(
                f'refusing to load split file {self.source}: its pickled '
                f'data asks for the global {module}.{name}, which is not a '
                'numpy array, dtype or scalar; a split file holds only '
                'arrays, dicts, lists, strings and numbers (this file may '
                'have been crafted to run code; it was not executed)'
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        """Refuse persistent ids (never used by ``np.save``)."""
        raise UnsafeSplitFileError(
            f'refusing to load split file {self.source}: it uses pickle '
            'persistent ids, which numpy arrays never do')


def _read_npy_header(f, source: str) -> Tuple[tuple, bool, np.dtype]:
    fmt = np.lib.format
    version = fmt.read_magic(f)
    if version == (1, 0):
        return fmt.read_array_header_1_0(f)
    if version == (2, 0):
        return fmt.read_array_header_2_0(f)
    reader = getattr(fmt, '_read_array_header', None)
    if reader is None:  # pragma: no cover - depends on the numpy version
        raise ValueError(f'split file {source}: unsupported .npy format '
                         f'version {version}')
    return reader(f, version)


def load_npy_safely(path: PathLike) -> Any:
    """Load a ``.npy`` file without running code from it.

    Numeric arrays are read with ``allow_pickle=False``. Object arrays are
    unpickled by :class:`RestrictedNumpyUnpickler`.

    Returns:
        The array (for a 0-d object array, still the array; call ``.item()``).

    Raises:
        UnsafeSplitFileError: the pickled data references a global that a
            numpy array of plain data does not need.
        ValueError: the file is not a ``.npy`` array; the message names it.
    """
    path = os.fspath(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as e:
        if 'allow_pickle' not in str(e) or 'Object arrays' not in str(e):
            raise ValueError(f'cannot read .npy split file {path}: {e}') from e
    else:
        if not isinstance(arr, np.ndarray):  # an .npz archive
            if hasattr(arr, 'close'):
                arr.close()
            raise ValueError(f'split file {path} is not a single .npy array '
                             f'(got {type(arr).__name__})')
        return arr
    with open(path, 'rb') as f:
        shape, _, dtype = _read_npy_header(f, path)
        if dtype != np.dtype(object):  # pragma: no cover - np.load handled it
            raise ValueError(f'split file {path}: unexpected dtype {dtype}')
        obj = RestrictedNumpyUnpickler(f, path).load()
    if not isinstance(obj, np.ndarray) or obj.shape != tuple(shape):
        raise ValueError(
            f'split file {path}: the pickled payload is a '
            f'{type(obj).__name__}, not the array of shape {tuple(shape)} '
            'announced by its header')
    return obj


def torch_safe_globals() -> List[Any]:
    """Globals allowed (beyond torch's own) when ``torch.load``-ing a split.

    ``torch.save`` writes a numpy number scalar as ``scalar(dtype, bytes)``;
    unpickling it needs ``numpy.dtype``, the dtype's class (numpy >= 1.25,
    e.g. ``numpy.dtypes.Int64DType``) and ``scalar`` under the name the
    writing numpy used (``numpy.core.multiarray.scalar`` for numpy 1.x,
    ``numpy._core.multiarray.scalar`` for numpy 2.x). Only bool, integer,
    float and unicode-string dtypes are allowed (no object dtype).
    """
    dtype_classes = {type(np.dtype(c)) for c in _SCALAR_DTYPE_CHARS}
    dtype_classes.discard(np.dtype)
    return [
        np.dtype,
        _SCALAR,
        (_SCALAR, 'numpy.core.multiarray.scalar'),
        (_SCALAR, 'numpy._core.multiarray.scalar'),
        *sorted(dtype_classes, key=lambda c: c.__name__),
    ]


def torch_load_safely(path: PathLike) -> Any:
    """``torch.load`` with ``weights_only=True`` plus numpy scalar globals.

    Raises:
        pickle.UnpicklingError: the file needs a global outside the
            allow-list (torch's message names it).
    """
    import torch
    allow = getattr(torch.serialization, 'safe_globals', None)
    if allow is None:  # torch < 2.5: plain weights_only (no numpy scalars)
        return torch.load(os.fspath(path), map_location='cpu',
                          weights_only=True)
    with allow(torch_safe_globals()):
        return torch.load(os.fspath(path), map_location='cpu',
                          weights_only=True)
