"""Handing mail to the SMTP server (smtplib, with a timeout on every step), or
printing it (``console:``, for the demo)."""

import smtplib
import ssl
import sys
from email.message import EmailMessage

from .settings import Transport


class MailUnavailable(Exception):
    """The SMTP server could not be reached or refused us: try again later."""


class MailRefused(Exception):
    """The server refused this one message for good (a 5xx for the recipient)."""


class Connection:
    """One SMTP session for a batch of mail; opened on the first send."""

    def __init__(self, transport: Transport, timeout: float):
        self.transport = transport
        self.timeout = timeout
        self.smtp = None

    def _open(self) -> smtplib.SMTP:
        t = self.transport
        context = ssl.create_default_context()
        if t.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(
                t.host, t.port, timeout=self.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if t.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if t.username:
                smtp.login(t.username, t.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send *message*.

        Raises:
            MailUnavailable: the server is down, timed out, or failed us (4xx);
                the connection is closed.
            MailRefused: the server refused this message permanently (5xx).
        """
        if self.transport.scheme == "console":
            self._print(message)
            return
        try:
            if self.smtp is None:
                self.smtp = self._open()
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code = min(code for code, _ in error.recipients.values())
            if code >= 500:
                raise MailRefused(f"recipient refused ({code})") from None
            self.close()
            raise MailUnavailable(f"recipient deferred ({code})") from None
        except smtplib.SMTPResponseException as error:
            self.close()
            if error.smtp_code >= 500 and not isinstance(
                error, smtplib.SMTPAuthenticationError
            ):
                raise MailRefused(f"refused ({error.smtp_code})") from None
            raise MailUnavailable(f"SMTP error {error.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise MailUnavailable(f"{type(error).__name__}: {error}") from None

    @staticmethod
    def _print(message: EmailMessage) -> None:
        # Readable in a terminal: the headers and the plain-text part decoded
        # (as_string() would show it quoted-printable or base64).
        headers = "".join(f"{name}: {value}\n" for name, value in message.items())
        text = message.get_body(("plain",)).get_content()
        sys.stdout.write(f"{'=' * 72}\n{headers}\n{text}\n")
        sys.stdout.flush()

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None
