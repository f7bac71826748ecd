"""A linear model over hashed features, kept as plain arrays.

Its state is numbers only: column indices, weights, each column's inverse
document frequency (how rare it was among the training comments) and an
intercept, written
with ``numpy.save(allow_pickle=False)`` and read back with
``numpy.load(allow_pickle=False)``, so a model read from the database can
never run code (an object array is refused on load).
"""

import io
import math
from dataclasses import dataclass

import numpy as np

from .features import N_FEATURES, Features, block_normalised
from .features import VERSION as FEATURES

FORMAT = 2


class BrokenModel(ValueError):
    """Stored model state that cannot be read as a model."""


class OutdatedModel(BrokenModel):
    """A model written by an older version (another format or features): it
    must be retrained (the training worker does so when it starts)."""


@dataclass(frozen=True)
class LinearModel:
    columns: np.ndarray  # int64, sorted, unique
    weights: np.ndarray  # float64, one per column
    intercept: float
    examples: int = 0
    spam_examples: int = 0
    # One per column (None: the row's counts are used as they are), and the
    # weight of a column no training comment had.
    idf: np.ndarray | None = None
    idf_unseen: float = 1.0

    def logit(self, row: Features) -> float:
        return float(self.contributions(row).sum()) + self.intercept

    def probability(self, row: Features) -> float:
        return _sigmoid(self.logit(row))

    def contributions(self, row: Features) -> np.ndarray:
        """Each of the row's columns' push towards spam (positive) or real."""
        if len(self.columns) == 0 or len(row.indices) == 0:
            return np.zeros(len(row.indices))
        at = np.searchsorted(self.columns, row.indices)
        at[at == len(self.columns)] = 0
        hit = self.columns[at] == row.indices
        if self.idf is None:
            values = row.values
        else:
            idf = np.where(hit, self.idf[at], self.idf_unseen)
            values = block_normalised(row.split, row.tf * idf)
        return np.where(hit, self.weights[at], 0.0) * values

    # -- storage: numbers only -------------------------------------------------
    def to_bytes(self) -> bytes:
        header = np.array(
            [
                FORMAT,
                FEATURES,
                self.intercept,
                self.examples,
                self.spam_examples,
                self.idf_unseen,
            ],
            dtype=np.float64,
        )
        idf = np.zeros(0) if self.idf is None else self.idf.astype(np.float64)
        buffer = io.BytesIO()
        for array in (header, self.columns.astype(np.int64), self.weights, idf):
            np.save(buffer, array, allow_pickle=False)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "LinearModel":
        """Read a model written by :meth:`to_bytes`.

        Raises:
            BrokenModel: the bytes are not such a model (truncated, another
                format or features version, object arrays, columns out of range
                or unsorted).
        """
        try:
            buffer = io.BytesIO(raw)
            header = np.load(buffer, allow_pickle=False)
            columns = np.load(buffer, allow_pickle=False)
            weights = np.load(buffer, allow_pickle=False)
            idf = np.load(buffer, allow_pickle=False) if _more(buffer) else None
        except (ValueError, OSError, EOFError, TypeError) as error:
            raise BrokenModel(f"unreadable model state: {error}") from None
        if (
            header.dtype == np.float64
            and header.ndim == 1
            and len(header) >= 2
            and (int(header[0]), int(header[1])) != (FORMAT, FEATURES)
        ):
            raise OutdatedModel("a model of an older version: retrain it")
        if (
            header.dtype != np.float64
            or header.shape != (6,)
            or int(header[0]) != FORMAT
            or int(header[1]) != FEATURES
            or columns.dtype != np.int64
            or weights.dtype != np.float64
            or columns.ndim != 1
            or columns.shape != weights.shape
            or (len(columns) and (columns.min() < 0 or columns.max() >= N_FEATURES))
            or np.any(np.diff(columns) <= 0)
            or not np.all(np.isfinite(weights))
            or not math.isfinite(header[2])
            or idf is None
            or idf.dtype != np.float64
            or idf.shape not in ((0,), columns.shape)
            or not np.all(np.isfinite(idf))
            or not math.isfinite(header[5])
        ):
            raise BrokenModel("model state has the wrong shape, version or values")
        return cls(
            columns,
            weights,
            float(header[2]),
            int(header[3]),
            int(header[4]),
            idf if len(idf) == len(columns) and len(idf) else None,
            float(header[5]),
        )


def _more(buffer: io.BytesIO) -> bool:
    return buffer.tell() < len(buffer.getbuffer())


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
