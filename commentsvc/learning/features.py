"""A comment as hashed features: what the filter reads of it.

Word unigrams and bigrams, character 3–5-grams and a few shape marks (links,
long digit runs, @mentions, #hashtags, letters dressed up as other letters),
of the author's name and the text, hashed into two blocks of columns: the
character n-grams in the first ``N_CHAR``, the words and marks in the next
(each block is normalised on its own, so that the hundreds of character
n-grams of a comment do not drown its words: measured in docs/spam.md).
Hashing keeps no vocabulary, so a model is arrays of numbers and nothing else;
the readable name of a column is recomputed from the comment's own text when a
moderator is shown what pushed a verdict.

The same function serves training (many comments, in the worker) and scoring
(one comment, on the post path). Character n-grams are hashed with NumPy over
the text's code points, words with CRC-32: about 0.1 ms for a typical comment.
"""

import re
import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

# Bumped whenever what a column means changes: a model of another version is
# refused (run `flask spam retrain` after such an upgrade).
VERSION = 3
N_CHAR = 1 << 20
# Word columns follow the character columns.
N_FEATURES = 2 * N_CHAR
_MASK = np.uint64(N_CHAR - 1)
# The longest text read: spam says what it sells early, and a cap bounds the
# cost of a 5,000-character comment.
MAX_CHARS = 1500
CHAR_NGRAMS = (3, 4, 5)

_WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*", re.UNICODE)
_LINK = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|info|biz|ru|ly|io|co"
    r"|me|gl|xyz|top|us|uk|in|site|online|club|shop)\b\S*",
    re.IGNORECASE,
)
_LONG_NUMBER = re.compile(r"\d[\d\s().-]{6,}\d")
_MENTION = re.compile(r"(?<![\w@])@[\w.]{2,}")
_HASHTAG = re.compile(r"(?<![\w#])#\w{2,}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]{2,}")
# Letters dressed up as other letters, to slip past word lists: small
# capitals, mathematical and enclosed alphanumerics, full-width forms, and
# letters stacked with several combining marks.
_DRESSED = re.compile(
    "[\u1d00-\u1d2b\u0250-\u02af\U0001d400-\U0001d7ff\u24b6-\u24e9"
    "\uff21-\uff5a\U0001f130-\U0001f189]|\\w[\u0300-\u036f]{2,}"
)
_SPACE = re.compile(r"\s+")
_MULT = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(1_000_003)


@dataclass(frozen=True)
class Features:
    """One comment's features: sorted column indices and their values (the row
    is L2-normalised), with the normalised text they were read from."""

    indices: np.ndarray  # int64, sorted, unique
    tf: np.ndarray  # float64: sublinear counts
    text: str
    words: tuple[str, ...]
    split: int  # where the word columns start in indices
    # For the explanation (by_word): each occurrence's place in indices (the
    # character n-grams of each n in turn, then the words), how many times
    # each column occurs, and how many n-grams there are of each n.
    inverse: np.ndarray
    counts: np.ndarray
    lengths: tuple[int, ...]

    @cached_property
    def values(self) -> np.ndarray:
        """The sublinear counts, each block L2-normalised (for a model
        without IDF)."""
        return block_normalised(self.split, self.tf)


def normalise(author: str, body: str) -> tuple[str, str]:
    text = _SPACE.sub(" ", (body or "")[:MAX_CHARS]).strip().lower()
    name = _SPACE.sub(" ", (author or "")[:200]).strip().lower()
    return name, text


def _word_features(name: str, text: str) -> tuple[str, ...]:
    words = _WORD.findall(text)
    out = list(words)
    out += [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    out += ["name:" + w for w in _WORD.findall(name)]
    out += ["[link]"] * min(len(_LINK.findall(text)), 3)
    out += ["[long number]"] * min(len(_LONG_NUMBER.findall(text)), 2)
    out += ["[email]"] * min(len(_EMAIL.findall(text)), 2)
    out += ["[mention]"] * min(len(_MENTION.findall(text)), 3)
    out += ["[hashtag]"] * min(len(_HASHTAG.findall(text)), 3)
    if _DRESSED.search(text) or _DRESSED.search(name):
        out.append("[dressed-up letters]")
    if not words:
        out.append("[no words]")
    return tuple(out)


def _hash_word(feature: str) -> int:
    crc = zlib.crc32(feature.encode("utf-8", "surrogatepass"))
    return N_CHAR + (crc & (N_CHAR - 1))


# Per n, the constant that keeps n-grams of different lengths apart (computed
# in Python: a NumPy scalar product would warn on the wrap-around).
_SEEDS = {n: np.uint64((n * 0x9E3779B97F4A7C15) % 2**64) for n in CHAR_NGRAMS}
_SHIFT_MIX, _SHIFT_OUT = np.uint64(29), np.uint64(20)


def _char_columns(padded: str) -> tuple[np.ndarray, list[int]]:
    """The column of every character n-gram of *padded*, for each n in
    CHAR_NGRAMS in turn (within each, the n-gram starting at position i comes
    i-th), and how many there are of each n. A polynomial over the code
    points, rolled from n to n+1, then mixed once (array arithmetic wraps
    around silently)."""
    points = np.frombuffer(
        padded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32
    ).astype(np.uint64)
    grams, rolled = [], points
    for n in range(2, CHAR_NGRAMS[-1] + 1):
        rolled = rolled[:-1] * _BASE + points[n - 1 :]
        if n in _SEEDS:
            grams.append(rolled + _SEEDS[n])
    mixed = np.concatenate(grams) * _MULT
    mixed ^= mixed >> _SHIFT_MIX
    mixed *= _MULT
    columns = ((mixed >> _SHIFT_OUT) & _MASK).astype(np.int64)
    return columns, [len(g) for g in grams]


def extract(author: str, body: str) -> Features:
    """The features of one comment (never raises on any str input)."""
    name, text = normalise(author, body)
    words = _word_features(name, text)
    chars, lengths = _char_columns(f" {text} ")
    hashed = np.fromiter((_hash_word(w) for w in words), np.int64, len(words))
    indices, inverse, counts = np.unique(
        np.concatenate((chars, hashed)), return_inverse=True, return_counts=True
    )
    # Sublinear counts: a word said five times is not five times the evidence.
    tf = 1.0 + np.log(counts)
    split = int(np.searchsorted(indices, N_CHAR))
    return Features(indices, tf, text, words, split, inverse, counts, tuple(lengths))


def block_normalised(split: int, values: np.ndarray) -> np.ndarray:
    """*values* (of sorted columns, the word block from *split* on) with the
    character block and the word block each scaled to unit length."""
    out = values.astype(np.float64, copy=True)
    for part in (out[:split], out[split:]):
        norm = np.sqrt(part @ part)
        if norm > 0:
            part /= norm
    return out


def by_word(features: Features, contributions: np.ndarray) -> dict[str, float]:
    """Each column's push (*contributions*, aligned with ``features.indices``)
    given back to the words of the comment it came from, so that a moderator
    reads "free" and "channel", not hashed fragments: a word feature counts for
    its word, a bigram half for each, a character n-gram for the words its
    characters belong to; the name's words and the shape marks count as
    themselves. Returns the total per word (lowercased)."""
    text = features.text
    # A column's push, shared by its occurrences in this comment.
    share = (contributions / features.counts)[features.inverse]

    spans = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    owner = np.zeros(len(text) + 2, dtype=np.int64)  # over the padded text
    for number, (start, end, _) in enumerate(spans, start=1):
        owner[start + 1 : end + 1] = number  # 0: spaces and punctuation
    # Each of an n-gram's characters gets 1/n of its share: one bincount.
    places, weights, offset = [], [], 0
    for n, count in zip(CHAR_NGRAMS, features.lengths, strict=True):
        starts = np.arange(count)
        part = share[offset : offset + count] / n
        for k in range(n):
            places.append(owner[starts + k])
            weights.append(part)
        offset += count
    pushed = np.bincount(
        np.concatenate(places) if places else np.zeros(0, np.int64),
        weights=np.concatenate(weights) if weights else None,
        minlength=len(spans) + 1,
    )[1:]
    totals: dict[str, float] = {}
    for number, (_, _, word) in enumerate(spans):
        totals[word] = totals.get(word, 0.0) + float(pushed[number])
    for feature, value in zip(features.words, share[offset:].tolist(), strict=True):
        parts = feature.split(" ") if not feature.startswith(("name:", "[")) else []
        if len(parts) == 2:
            for part in parts:
                totals[part] = totals.get(part, 0.0) + value / 2
        else:
            key = feature.replace("name:", "name: ", 1)
            totals[key] = totals.get(key, 0.0) + value
    return totals


def matrix(rows: list[Features], idf: np.ndarray | None = None):
    """Stack *rows* into a SciPy CSR matrix of N_FEATURES columns: their
    sublinear counts, times *idf* (one weight per column) if given, each
    block normalised."""
    from scipy.sparse import csr_matrix

    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r.indices) for r in rows], out=indptr[1:])
    if rows:
        indices = np.concatenate([r.indices for r in rows]).astype(np.int32)
        if idf is None:
            values = np.concatenate([r.values for r in rows])
        else:
            values = np.concatenate(
                [block_normalised(r.split, r.tf * idf[r.indices]) for r in rows]
            )
    else:
        indices, values = np.zeros(0, np.int32), np.zeros(0)
    return csr_matrix((values, indices, indptr), shape=(len(rows), N_FEATURES))
