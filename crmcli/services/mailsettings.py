"""Settings of mailings: the SMTP server, the sender, the unsubscribe address, the purposes
that need no double opt-in. From the environment (CRM_SMTP_HOST, CRM_SMTP_PORT,
CRM_SMTP_FROM, CRM_SMTP_USER, CRM_SMTP_PASSWORD, CRM_SMTP_SECURITY, CRM_SMTP_RATE,
CRM_UNSUBSCRIBE, CRM_CONSENT_NO_DOI), else from config.toml in crmcli's config directory
(CRM_CONFIG_DIR, else the platform's: templating.config_dir, where templates/ lives too):

    [smtp]
    host = "smtp.example.de"
    port = 587
    security = "starttls"   # or "ssl", or "none"
    user = "crm@example.de"
    from = "Beispiel GmbH <crm@example.de>"
    unsubscribe = "abmelden@example.de"
    rate = 60               # at most 60 mails a minute (--rate wins)
    # the password: CRM_SMTP_PASSWORD, or the keyring (service "crmcli-smtp") when installed

    [consent]
    no_doi = ["service"]    # purposes whose grants count without a double opt-in

The password is never part of a Settings' repr or of any message."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from crmcli.errors import Invalid

SECURITIES = ("starttls", "ssl", "none")


def config_path() -> Path:
    """config.toml in crmcli's config directory (beside its templates/)."""
    from crmcli.services.templating import config_dir

    return config_dir() / "config.toml"


def read_config() -> dict:
    """The config file as a dict ({} when there is none); Invalid when it is not TOML."""
    path = config_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise Invalid("config", f"cannot read {path}: {exc.strerror}") from None
    import tomllib

    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise Invalid("config", f"{path} is not valid TOML: {exc}") from None


def no_doi(config: dict | None = None) -> frozenset[str]:
    """Purposes whose grants count without a double-opt-in confirmation."""
    given = os.environ.get("CRM_CONSENT_NO_DOI")
    if given is not None:
        return frozenset(p.strip().lower() for p in given.split(",") if p.strip())
    config = read_config() if config is None else config
    value = (config.get("consent") or {}).get("no_doi", [])
    if isinstance(value, str):
        value = [value]
    return frozenset(str(p).strip().lower() for p in value if str(p).strip())


@dataclass(frozen=True)
class Settings:
    host: str | None
    port: int
    security: str
    user: str | None
    sender: str | None
    unsubscribe: str | None
    rate: float | None = None  # mails a minute at most
    password: str | None = field(default=None, repr=False)

    @property
    def unsubscribe_address(self) -> str | None:
        """The unsubscribe mailbox: its own setting, else the sender's address."""
        if self.unsubscribe:
            return self.unsubscribe
        if self.sender:
            from email.utils import parseaddr

            return parseaddr(self.sender)[1] or None
        return None


def settings() -> Settings:
    """The SMTP settings: the environment over the config file."""
    smtp = read_config().get("smtp") or {}

    def pick(env: str, key: str) -> str | None:
        value = os.environ.get(env)
        if value is None:
            value = smtp.get(key)
        value = str(value).strip() if value is not None else None
        return value or None

    security = (pick("CRM_SMTP_SECURITY", "security") or "starttls").lower()
    if security not in SECURITIES:
        raise Invalid("smtp-security", f"'{security}' is not starttls, ssl or none")
    port_text = pick("CRM_SMTP_PORT", "port")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise Invalid("smtp-port", f"'{port_text}' is not a port number") from None
    if not 0 < port < 65536:
        raise Invalid("smtp-port", f"{port} is not a port number")
    rate_text = pick("CRM_SMTP_RATE", "rate")
    try:
        rate = float(rate_text) if rate_text else None
    except ValueError:
        raise Invalid("smtp-rate", f"'{rate_text}' is not a number of mails a minute") from None
    if rate is not None and not rate > 0:
        raise Invalid("smtp-rate", "mails a minute: a number above 0")
    user = pick("CRM_SMTP_USER", "user")
    password = os.environ.get("CRM_SMTP_PASSWORD") or None
    if password is None and user:
        password = _keyring_password(user)
    return Settings(
        host=pick("CRM_SMTP_HOST", "host"), port=port, security=security, user=user,
        sender=_checked(pick("CRM_SMTP_FROM", "from"), "CRM_SMTP_FROM", "from", named=True),
        unsubscribe=_checked(pick("CRM_UNSUBSCRIBE", "unsubscribe"), "CRM_UNSUBSCRIBE",
                             "unsubscribe"),
        rate=rate, password=password,
    )  # fmt: skip


def _checked(value: str | None, env: str, key: str, *, named: bool = False) -> str | None:
    """An address setting checked as every email is (`Name <address>` where `named`), before
    it goes into a From, a List-Unsubscribe or a Message-ID: one error names the setting."""
    if value is None:
        return None
    from email.utils import formataddr, getaddresses

    from crmcli.values import parse_email

    where = f"{env} or [smtp] {key}"
    found = getaddresses([value]) if named else [("", value)]
    if len(found) != 1 or not found[0][1]:
        raise Invalid(where, f"'{value}' is not one valid email address (or Name <address>)")
    name, address = found[0]
    checked = parse_email(address, field=where)
    return formataddr((name, checked)) if name else checked


def _keyring_password(user: str) -> str | None:
    """The password the system keyring holds for crmcli-smtp and `user`, when the optional
    keyring package is installed."""
    try:
        import keyring  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        return keyring.get_password("crmcli-smtp", user)
    except Exception:  # noqa: BLE001 - no usable keyring backend: as if none were installed
        return None
