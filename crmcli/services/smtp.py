"""The SMTP connection of a mailing: connect (STARTTLS, SSL or plain), log in, hand over one
mail at a time. Every failure is one MailError whose message never holds the password."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from crmcli.errors import Invalid

if TYPE_CHECKING:
    from email.message import Message

TIMEOUT_S = 30


def _clean(text: Any, settings) -> str:
    """A server reply or OS message as one line, without the password (a server may echo)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    line = " ".join(str(text).split())
    if settings.password:
        line = line.replace(settings.password, "***")
    return line


def _reply(exc: Exception, settings) -> str:
    code = getattr(exc, "smtp_code", None)
    error = getattr(exc, "smtp_error", None)
    if code is not None and error is not None:
        return f"{code} {_clean(error, settings)}"
    return _clean(exc, settings) or type(exc).__name__


@contextmanager
def connect(settings) -> Iterator[Any]:
    """An open, logged-in SMTP connection (closed at the end, politely when it still can)."""
    import smtplib
    import ssl

    from crmcli.services.mailing import MailError

    if not settings.host:
        raise Invalid("smtp", "no SMTP server: set CRM_SMTP_HOST or [smtp] host in the config")
    if not settings.sender:
        raise Invalid("smtp", "no sender: set CRM_SMTP_FROM or [smtp] from in the config")
    where = f"{settings.host}:{settings.port}"
    server: smtplib.SMTP
    try:
        if settings.security == "ssl":
            server = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=TIMEOUT_S,
                context=ssl.create_default_context(),
            )  # fmt: skip
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_S)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot reach the SMTP server {where}: {_reply(exc, settings)}") from None
    try:
        try:
            if settings.security == "starttls":
                try:
                    server.starttls(context=ssl.create_default_context())
                except smtplib.SMTPNotSupportedError:
                    raise MailError(
                        f"the SMTP server {where} offers no STARTTLS; choose security ssl or none"
                    ) from None
            if settings.user:
                if not settings.password:
                    raise Invalid("smtp", f"no password for {settings.user}: set CRM_SMTP_PASSWORD")
                try:
                    server.login(settings.user, settings.password)
                except smtplib.SMTPNotSupportedError:
                    # Many servers offer AUTH only after STARTTLS; a relay may never.
                    plain = settings.security == "none"
                    raise MailError(
                        f"the SMTP server {where} offers no login (AUTH)"
                        f"{' without STARTTLS' if plain else ''}, yet a user ({settings.user}) "
                        f"is set: {'choose security starttls, or ' if plain else ''}leave out "
                        "CRM_SMTP_USER for a server that needs no login; nothing was sent"
                    ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(
                f"the SMTP server {where} refused the login of {settings.user}: "
                f"{_reply(exc, settings)}; nothing was sent"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"the SMTP server {where} failed before the first mail: {_reply(exc, settings)}; "
                "nothing was sent"
            ) from None
        yield server
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()


def deliver(server, msg: Message, settings, *, sent: int) -> str | None:
    """Hand one mail to the server: None when it took it, the server's reply when it refused
    the recipient (that mail alone is not sent). Anything else (a disconnect, a refused
    sender, a timeout) is MailError saying how many went out before."""
    import smtplib
    from email.utils import parseaddr

    from crmcli.services.mailing import MailError, as_bytes

    sender = parseaddr(settings.sender)[1]
    to = parseaddr(str(msg["To"]))[1]
    try:
        server.sendmail(sender, [to], as_bytes(msg))
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = exc.recipients.get(to, (None, b""))
        return f"{code} {_clean(reply, settings)}".strip()
    except (OSError, smtplib.SMTPException) as exc:
        before = f"{sent} mail{'s' if sent != 1 else ''} sent and recorded before"
        raise MailError(
            f"the SMTP server failed while sending to {to}: {_reply(exc, settings)}; {before} "
            "(a run again sends the rest, none twice)",
            sent=sent,
        ) from None
    return None
