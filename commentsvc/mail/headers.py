"""A mail's headers, built by the email package's header objects from values
checked here: no text from a reader, a moderator or an admin decides where a
header ends or what another header says.

Why not trust the email package alone: a header value given as text is parsed,
and RFC 2047 encoded words in it are decoded — ``=?utf-8?q?Ann=0D=0A…?=``
becomes a line break, which Pythons before 3.11.10 / 3.12.5 then write out as
is (CVE-2024-6923: a Reply-To and a body of the sender's choosing). Names
with ``=?`` are refused at the API and at import
(:func:`commentsvc.inputrules.name_problem`); a name stored before that rule,
or a site's name, passes through
:func:`header_text` here, which holds on every Python.
"""

import unicodedata
from email import errors, policy
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage


class BadAddress(Exception):
    """An address the email package cannot write into a header."""


def header_text(value: str) -> str:
    """*value* as one line of plain text, safe as (part of) a header value:
    control and format characters become spaces, runs of white space one space,
    and ``=?`` (what opens an encoded word) ``= ?``, so nothing in it is
    decoded by the email package or by the reader's mail program."""
    value = value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates
    value = "".join(
        " " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char
        for char in value
    )
    return " ".join(value.split()).replace("=?", "= ?")


def address(addr_spec: str) -> Address:
    """The address *addr_spec* (``someone@example.org``) as a header object.

    Raises:
        BadAddress: not a single plain address.
    """
    if addr_spec != header_text(addr_spec):  # also when it holds "=?"
        raise BadAddress(addr_spec)
    try:
        return Address(addr_spec=addr_spec)
    except (ValueError, IndexError, errors.MessageError) as error:
        raise BadAddress(addr_spec) from error


class PlainHeader(UnstructuredHeader):
    """A header of ASCII tokens (a URL, a message id) written on one line as
    given. The SMTP policy turns a header with a word longer than a line into
    RFC 2047 encoded words, and a mail program then finds no URL in
    ``List-Unsubscribe``. RFC 5322 allows a line of 998 characters; a value
    with anything else in it (only a List-Id whose site name is not ASCII) is
    folded and encoded as usual."""

    @classmethod
    def parse(cls, value, kwds):
        """Raises:
        ValueError: *value* is not one line of plain text (see
            :func:`header_text`): a bug in the caller, never a reader's text.
        """
        if header_text(str(value)) != str(value):
            raise ValueError(f"not a plain header value: {value!r}")
        super().parse(value, kwds)

    def fold(self, *, policy):
        line = f"{self.name}: {self}"
        if self.isascii() and len(line) <= 998:
            return line + policy.linesep
        return super().fold(policy=policy)


# Values of these are built here from checked configuration, never from text
# a reader typed (a site's name in List-Id goes through header_text).
PLAIN_HEADERS = (
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Id",
    "Message-ID",
)
_registry = HeaderRegistry()
for _name in PLAIN_HEADERS:
    _registry.map_to_type(_name, PlainHeader)
# The policy's own registry is shared by every SMTP-policy message in the
# process: ours is a copy with the plain headers mapped.
SMTP = policy.SMTP.clone(header_factory=_registry)


def new_message(sender: str, to: str, subject: str) -> EmailMessage:
    """An empty message (SMTP policy: CR LF line ends) from *sender* (the
    configured MAIL_FROM, checked at start-up) to the address *to* about
    *subject* (made plain by :func:`header_text`).

    Raises:
        BadAddress: *to* is not a single plain address.
    """
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = address(to)
    message["Subject"] = header_text(subject)
    return message
