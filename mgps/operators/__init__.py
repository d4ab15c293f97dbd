"""Forward operators, one file per family. Importing this package registers all of them."""

from . import (  # noqa: F401  (registration)
    blur,
    hdr,
    jpeg,
    masks,
    matrix,
    nonlinear_blur,
    phase_retrieval,
    resolution,
)
from .base import SVDOperator, dense_matrix, has_svd, measure, svd_pinv, svd_regularized_solve
from .blur import ReflectBlur, SeparableBlurSVD
from .hdr import HighDynamicRange
from .image_base import ImageOperator
from .jpeg import DiffJPEG
from .masks import MaskOperator
from .matrix import MatrixOperator, gaussian_matrix
from .nonlinear_blur import KernelWizard, NonlinearBlur
from .phase_retrieval import PhaseRetrieval
from .resolution import BlockAverage

__all__ = [
    "SVDOperator",
    "MatrixOperator",
    "gaussian_matrix",
    "measure",
    "has_svd",
    "dense_matrix",
    "svd_pinv",
    "svd_regularized_solve",
    "ImageOperator",
    "MaskOperator",
    "BlockAverage",
    "ReflectBlur",
    "SeparableBlurSVD",
    "DiffJPEG",
    "PhaseRetrieval",
    "HighDynamicRange",
    "KernelWizard",
    "NonlinearBlur",
]
