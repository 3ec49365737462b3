from .local_visualizer import MTLLocalVisualizer

__all__ = ['MTLLocalVisualizer']
