"""What a person's name may hold, wherever a name comes in: the API's form and
an import both ask :func:`name_problem`.

A name is shown in pages, in the queue and in mail (its subject line among
them), so it must be plain visible text: no control characters, no Unicode
format characters (bidi controls, zero-width characters: they let one name pass
for another, or reverse the text after it), and no RFC 2047 encoded word
(``=?utf-8?q?…?=``): a mail reader decodes one into anything, line breaks
included, which older Pythons write into a header as they are (CVE-2024-6923).
"""

import unicodedata

_ZWJ = "\u200d"
_EMOJI_PARTS = frozenset(("So", "Sk", "Mn"))  # pictographs, modifiers, VS-16

HIDDEN_MESSAGE = (
    "Please use visible characters only (no invisible or direction-changing ones)."
)
ENCODED_WORD_MESSAGE = 'Please write your name as plain text (without "=?").'
CONTROL_MESSAGE = "Contains control characters."


def hidden(text: str) -> bool:
    """Whether *text* holds a Unicode format character (bidi control,
    zero-width space, BOM…), other than the zero-width joiner inside an emoji
    sequence (👩‍💻)."""
    for at, char in enumerate(text):
        if unicodedata.category(char) != "Cf":
            continue
        if (
            char == _ZWJ
            and 0 < at < len(text) - 1
            and unicodedata.category(text[at - 1]) in _EMOJI_PARTS
            and unicodedata.category(text[at + 1]) in _EMOJI_PARTS
        ):
            continue
        return True
    return False


def name_problem(name: str | None) -> str | None:
    """Why *name* cannot be a person's name (a message to show them), or None
    when it can. Length and emptiness are the caller's rules."""
    text = name or ""
    if any(unicodedata.category(char) == "Cc" for char in text):
        return CONTROL_MESSAGE
    if hidden(text):
        return HIDDEN_MESSAGE
    # "=?" opens every encoded word; a real name has no need of it.
    if "=?" in text:
        return ENCODED_WORD_MESSAGE
    return None
