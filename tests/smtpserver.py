"""A real SMTP server on 127.0.0.1 for tests of mailings (aiosmtpd): it keeps what arrived,
and can refuse recipients, drop the connection at the n-th mail, or demand a login."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy


@dataclass
class Arrived:
    sender: str
    recipients: list[str]
    message: object  # email.message.EmailMessage


@dataclass
class Handler:
    refuse: set[str] = field(default_factory=set)  # RCPT TO answered 550
    drop_at: int | None = None  # the n-th DATA (1-based) drops the connection instead
    arrived: list[Arrived] = field(default_factory=list)
    datas: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.datas += 1
        if self.drop_at is not None and self.datas >= self.drop_at:
            server.transport.close()
            return "421 closing"
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.arrived.append(Arrived(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """Start with `with Server(handler, login=(user, password)) as port:`."""

    def __init__(self, handler: Handler, login: tuple[str, str] | None = None):
        from aiosmtpd.controller import Controller

        self.port = free_port()
        kwargs: dict = {}
        if login is not None:
            from aiosmtpd.smtp import AuthResult

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (auth_data.login.decode(), auth_data.password.decode()) == login
                return AuthResult(success=ok, handled=False)

            kwargs = {"authenticator": authenticator, "auth_require_tls": False,
                      "auth_required": False}  # fmt: skip
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> int:
        import warnings

        with warnings.catch_warnings():  # AUTH without TLS: on 127.0.0.1 in a test, on purpose
            warnings.simplefilter("ignore")
            self.controller.start()
        return self.port

    def __exit__(self, *exc) -> None:
        self.controller.stop()
