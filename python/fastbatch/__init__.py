"""fastbatch: Lanczos3 (and friends) resize and grayscale on all cores, with Pillow's pixels."""

from .batch import BatchReport, process_batch, process_image
from .ops import fit_size, grayscale, resize

__version__ = "0.1.0"

__all__ = ["resize", "grayscale", "fit_size", "process_image", "process_batch", "BatchReport", "__version__"]
