from .inferencer import MTLInferencer, list_images

__all__ = ['MTLInferencer', 'list_images']
