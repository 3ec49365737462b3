"""mmdmtl: DiffusionMTL multi-task dense prediction from partially annotated
data, as an OpenMMLab (mmsegmentation) plugin.

Importing this package registers all of its modules in mmseg's registries.
"""
import mmcv
import mmengine
from packaging.version import Version

from .version import __version__, version_info

_MMCV_MIN, _MMCV_MAX = Version('2.0.0rc4'), Version('2.2.0')
if not (_MMCV_MIN <= Version(mmcv.__version__) < _MMCV_MAX):
    raise ImportError(
        f'mmdmtl needs mmcv>={_MMCV_MIN},<{_MMCV_MAX} (the full build with '
        f'ops), but mmcv=={mmcv.__version__} is installed. Run '
        '`bash tools/install.sh`.')
if not (Version('0.10.0') <= Version(mmengine.__version__) < Version('1.0.0')):
    raise ImportError(f'mmdmtl needs mmengine>=0.10,<1.0, found '
                      f'{mmengine.__version__}.')
import mmseg  # noqa: E402

_MMSEG_MIN, _MMSEG_MAX = Version('1.2.2'), Version('1.3.0')
if not (_MMSEG_MIN <= Version(mmseg.__version__) < _MMSEG_MAX):
    raise ImportError(f'mmdmtl needs mmsegmentation>={_MMSEG_MIN},<{_MMSEG_MAX}, found '
                      f'{mmseg.__version__}. Run `bash tools/install.sh`.')

# ``apis`` registers MTLInferencer in mmseg's INFERENCERS; ``tasks`` the
# built-in tasks in mmdmtl's TASKS registry.
from . import (  # noqa: E402,F401
    apis,
    datasets,
    engine,
    evaluation,
    models,
    structures,
    tasks,
    visualization,
)

__all__ = ['__version__', 'version_info']
