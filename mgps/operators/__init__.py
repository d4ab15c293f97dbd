"""Forward operators, one file per family. Importing this package registers all of them."""

from . import matrix  # noqa: F401  (registration)
from .base import SVDOperator, dense_matrix, has_svd, measure, svd_pinv, svd_regularized_solve
from .matrix import MatrixOperator, gaussian_matrix

__all__ = [
    "SVDOperator",
    "MatrixOperator",
    "gaussian_matrix",
    "measure",
    "has_svd",
    "dense_matrix",
    "svd_pinv",
    "svd_regularized_solve",
]
