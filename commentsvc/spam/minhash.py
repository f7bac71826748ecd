"""MinHash signatures of comment bodies and their LSH band keys (pure NumPy).

A body is normalised (lowercased, whitespace collapsed, every digit a 0: the
phone numbers and prices of a campaign change, its words stay), cut into character
5-grams, each hashed to 64 bits; the signature is the minimum of PERMUTATIONS
multiply-shift hashes over them. Two signatures agree at a position with
probability equal to the Jaccard similarity of the two bodies' shingle sets.
The signature is cut into BANDS bands of ROWS values; each band hashes to one
64-bit key: bodies that share any key are candidates (16 bands of 4: half the
pairs at Jaccard 0.5 share a key, 99 % at 0.7).

Every constant is fixed: band keys and signatures are stored, so changing
SHINGLE, PERMUTATIONS, ROWS or the seeds needs a rebuild of the stored rows.
"""

import functools
import re

import numpy as np

SHINGLE = 5
PERMUTATIONS = 64
ROWS = 4
BANDS = PERMUTATIONS // ROWS
# Fewer shingles than this (bodies under ~24 characters): no signature. Short
# texts ("Thanks, great post!") repeat among readers by nature.
MIN_SHINGLES = 20
_SPACE = re.compile(r"\s+")
_DIGITS = str.maketrans("123456789", "000000000")
_MASK = (1 << 64) - 1


def normalise(body: str) -> str:
    """Lowercased, whitespace runs made one space, trimmed, digits made 0."""
    return _SPACE.sub(" ", body).strip().lower().translate(_DIGITS)


def _splitmix64(seed: int, count: int) -> list[int]:
    """A fixed stream of 64-bit numbers (not NumPy's generators, whose streams
    may change between versions: stored keys depend on these)."""
    out = []
    for _ in range(count):
        seed = (seed + 0x9E3779B97F4A7C15) & _MASK
        z = seed
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        out.append(z ^ (z >> 31))
    return out


@functools.cache
def _constants() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The permutations' multipliers (odd) and offsets, and per-band seeds."""
    numbers = _splitmix64(0x6E656172647570, 2 * PERMUTATIONS + BANDS)
    a = np.array([n | 1 for n in numbers[:PERMUTATIONS]], dtype=np.uint64)
    b = np.array(numbers[PERMUTATIONS : 2 * PERMUTATIONS], dtype=np.uint64)
    seeds = np.array(numbers[2 * PERMUTATIONS :], dtype=np.uint64)
    return a[:, None], b[:, None], seeds


_P = np.uint64(0x100000001B3)  # FNV's prime: mixes code points into a shingle
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_S32 = np.uint64(32)


def _mix(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser (in place): nearby inputs, far outputs."""
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


def shingle_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the character SHINGLE-grams of *text*."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    n = len(points) - SHINGLE + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    points = points.astype(np.uint64)
    h = points[:n].copy()
    for j in range(1, SHINGLE):
        h *= _P
        h += points[j : j + n]
    return _mix(h)


def signature(body: str) -> np.ndarray | None:
    """The MinHash signature (PERMUTATIONS uint32) of *body*, or None when it
    has fewer than MIN_SHINGLES distinct shingles."""
    return text_signature(normalise(body))


def text_signature(text: str) -> np.ndarray | None:
    """:func:`signature` of a text already normalised."""
    hashes = np.unique(shingle_hashes(text))
    if len(hashes) < MIN_SHINGLES:
        return None
    a, b = _constants()[:2]
    # Multiply-shift hashing: the high 32 bits of a*x + b (mod 2**64).
    values = (a * hashes[None, :] + b) >> _S32
    return values.min(axis=1).astype(np.uint32)


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 64-bit key per band (the band's number is in its key)."""
    # Two signature values per 64-bit word: ROWS // 2 words per band.
    words = np.ascontiguousarray(sig, dtype="<u4").view("<u8")
    words = words.reshape(BANDS, ROWS // 2)
    key = _constants()[2].copy()
    for c in range(ROWS // 2):
        key ^= words[:, c]
        key *= _M1
    return _mix(key).view(np.int64).tolist()


def to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of two bodies: agreeing positions."""
    return float(np.count_nonzero(a == b)) / PERMUTATIONS
