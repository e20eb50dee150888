"""Who may see the dashboard: the login settings (OpenID Connect) and the access policy.

The settings live outside the repository, in a TOML file (``--auth-config PATH``,
``$UPGRADE_WAREHOUSE_AUTH_CONFIG`` or ``~/.config/upgrade-warehouse/auth.toml``) and/or
environment variables (``UPGRADE_WAREHOUSE_OIDC_*``, ``UPGRADE_WAREHOUSE_ALLOWED_*``),
which override the file key by key::

    [oidc]                       # the provider; Streamlit's st.login uses these
    server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"
    # provider_name = "Google"   # the login button's label (default: from the URL)
    client_id = "..."
    client_secret = "..."
    redirect_uri = "https://dashboard.example.com/oauth2callback"
    cookie_secret = "..."        # 32+ random characters

    [access]                     # the allow-list
    emails = ["cfo@example.com"]
    domains = ["example.com"]
    # groups_claim = "groups"    # an ID-token claim with the user's groups at the provider
    # default_pages = ["*"]      # pages of an allowed user who is in no group

    [groups.leadership]          # optional per-page access ("*" = every page)
    emails = ["ceo@example.com"]
    pages = ["overview", "monthly-review"]

This module has no Streamlit import: the ``dashboard`` command validates the settings
before it starts the server, and hands the app the policy (never a secret) as JSON in
``$UPGRADE_WAREHOUSE_DASHBOARD_ACCESS``. The secrets go to Streamlit in a secrets file
the command writes into a private temporary directory (see ``write_streamlit_secrets``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import UserError

AUTH_CONFIG_ENV = "UPGRADE_WAREHOUSE_AUTH_CONFIG"
POLICY_ENV = "UPGRADE_WAREHOUSE_DASHBOARD_ACCESS"  # set by the command, read by the app
OIDC_KEYS = ("server_metadata_url", "client_id", "client_secret", "redirect_uri", "cookie_secret")
OIDC_ENV = {key: f"UPGRADE_WAREHOUSE_OIDC_{key.upper()}" for key in OIDC_KEYS}
ALLOW_ENV = {
    "emails": "UPGRADE_WAREHOUSE_ALLOWED_EMAILS",
    "domains": "UPGRADE_WAREHOUSE_ALLOWED_DOMAINS",
}
SECRET_KEYS = frozenset({"client_secret", "cookie_secret"})
MIN_COOKIE_SECRET = 32
ALL_PAGES = "*"
NOT_LISTED = "not on the allow-list"
CALLBACK_PATH = "/oauth2callback"
DOCS = "docs/deploy.md"
HOW_TO = (
    "configure an OpenID Connect login: put [oidc] server_metadata_url, client_id, "
    "client_secret, redirect_uri, cookie_secret and [access] emails and/or domains (who may "
    "log in) in ~/.config/upgrade-warehouse/auth.toml (or in the file named by "
    f"--auth-config or ${AUTH_CONFIG_ENV}; the environment variables "
    "UPGRADE_WAREHOUSE_OIDC_<KEY> and UPGRADE_WAREHOUSE_ALLOWED_EMAILS / _DOMAINS work too)"
    f"; see {DOCS}"
)


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "upgrade-warehouse" / "auth.toml"


# -- addresses ---------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True when every address ``host`` stands for is a loopback address.

    ``0.0.0.0`` and ``::`` (every interface) are not loopback. A name is resolved; one
    that does not resolve is a :class:`UserError`.
    """
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(text, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise UserError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


# -- the policy (what the app needs; no secret) ------------------------------------------


@dataclass(frozen=True)
class Group:
    name: str
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    idp_groups: frozenset[str] = frozenset()  # values of the provider's groups claim
    pages: frozenset[str] = frozenset()

    def has(self, email: str, claimed: frozenset[str]) -> bool:
        return (
            email in self.emails
            or domain_of(email) in self.domains
            or bool(self.idp_groups & claimed)
        )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    email: str
    reason: str = ""  # why not, when not allowed
    groups: tuple[str, ...] = ()
    pages: frozenset[str] = frozenset()  # page ids, or {"*"}

    def may_see(self, page_id: str) -> bool:
        return self.allowed and (ALL_PAGES in self.pages or page_id in self.pages)


@dataclass(frozen=True)
class AccessPolicy:
    """The allow-list and the per-group pages.

    Allowed: an e-mail on ``emails``, an address at one of ``domains``, or a member of
    a group (groups are part of the allow-list). Pages: the union of the pages of every
    group the user is in; ``default_pages`` for an allowed user in no group.
    """

    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    groups: tuple[Group, ...] = ()
    groups_claim: str | None = None
    default_pages: frozenset[str] = frozenset({ALL_PAGES})
    provider: str = ""  # the provider's name, for the login button
    # An ID token without email_verified is denied; false for a provider that never
    # sends it (Microsoft Entra ID, docs/deploy.md). A present claim must be true.
    require_email_verified: bool = True

    def empty(self) -> bool:
        return not (
            self.emails
            or self.domains
            or any(g.emails or g.domains or g.idp_groups for g in self.groups)
        )

    def page_ids(self) -> set[str]:
        ids = set(self.default_pages)
        for group in self.groups:
            ids |= group.pages
        return ids - {ALL_PAGES}

    def decide(self, claims: Mapping) -> Decision:
        """Whether the user of these ID-token claims may see the dashboard, and what."""
        value = claims.get("email")
        if not isinstance(value, str) or not value.strip():
            return Decision(False, "", "the provider sent no e-mail address")
        email = value.strip().lower()
        if not EMAIL_PATTERN.fullmatch(email):
            return Decision(False, "", "the provider's e-mail claim is not an address")
        if not _verified(claims, self.require_email_verified):
            return Decision(False, email, "the e-mail address is not verified")
        claimed = frozenset(
            _claimed_groups(claims.get(self.groups_claim)) if self.groups_claim else ()
        )
        member_of = [g for g in self.groups if g.has(email, claimed)]
        if not (member_of or email in self.emails or domain_of(email) in self.domains):
            return Decision(False, email, NOT_LISTED)
        if member_of:
            pages = frozenset().union(*(g.pages for g in member_of))
        else:
            pages = self.default_pages
        if not pages:
            return Decision(
                False,
                email,
                "no page is open to this user's groups",
                tuple(g.name for g in member_of),
            )
        return Decision(True, email, "", tuple(g.name for g in member_of), pages)

    def to_json(self) -> str:
        return json.dumps(
            {
                "emails": sorted(self.emails),
                "domains": sorted(self.domains),
                "groups": [
                    {
                        "name": g.name,
                        "emails": sorted(g.emails),
                        "domains": sorted(g.domains),
                        "idp_groups": sorted(g.idp_groups),
                        "pages": sorted(g.pages),
                    }
                    for g in self.groups
                ],
                "groups_claim": self.groups_claim,
                "default_pages": sorted(self.default_pages),
                "provider": self.provider,
                "require_email_verified": self.require_email_verified,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> AccessPolicy:
        data = json.loads(text)
        return cls(
            emails=frozenset(data["emails"]),
            domains=frozenset(data["domains"]),
            groups=tuple(
                Group(
                    g["name"],
                    frozenset(g["emails"]),
                    frozenset(g["domains"]),
                    frozenset(g["idp_groups"]),
                    frozenset(g["pages"]),
                )
                for g in data["groups"]
            ),
            groups_claim=data["groups_claim"],
            default_pages=frozenset(data["default_pages"]),
            provider=data.get("provider", ""),
            require_email_verified=data.get("require_email_verified", True) is not False,
        )


KNOWN_PROVIDERS = {
    "accounts.google.com": "Google",
    "login.microsoftonline.com": "Microsoft",
    "okta.com": "Okta",
    "oktapreview.com": "Okta",
    "auth0.com": "Auth0",
}


def provider_name(server_metadata_url: str) -> str:
    """A name for the login button: Google, Microsoft, Okta, ... or the issuer's host."""
    host = urlsplit(server_metadata_url).hostname or ""
    for suffix, name in KNOWN_PROVIDERS.items():
        if host == suffix or host.endswith("." + suffix):
            return name
    return urlsplit(server_metadata_url).netloc


def domain_of(email: str) -> str:
    return email.rpartition("@")[2]


# Identity claims are parsed strictly (docs/deploy.md "Claims"): anything but the forms
# below denies (or, for groups, grants no group). One address: a local part and a
# domain, no space, no control character, one @.
EMAIL_PATTERN = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+")


def _verified(claims: Mapping, required: bool) -> bool:
    """email_verified is the JSON boolean true, or exactly the string "true" (AWS Cognito
    sends its booleans as strings); missing is a denial unless not ``required``."""
    if "email_verified" not in claims:
        return not required
    value = claims["email_verified"]
    return value is True or (isinstance(value, str) and value == "true")


def _claimed_groups(value) -> list[str]:
    """The groups claim: a list of strings, or one string (one group). Anything else (a
    list holding a number or a list, an object, a number) grants no group at all."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return []


def policy_from_env(environ: Mapping[str, str] | None = None) -> AccessPolicy | None:
    """The policy the command handed to the app; None when no login is configured."""
    text = (os.environ if environ is None else environ).get(POLICY_ENV)
    return AccessPolicy.from_json(text) if text else None


# -- the login settings ------------------------------------------------------------------


@dataclass(frozen=True)
class LoginConfig:
    oidc: dict[str, str]  # OIDC_KEYS -> value (holds the secrets: never log or print it)
    policy: AccessPolicy
    client_kwargs: dict[str, str] = field(default_factory=dict)
    source: str = ""  # where it came from, for messages

    def __repr__(self) -> str:  # never show the secrets by accident
        return f"LoginConfig(source={self.source!r}, issuer={self.issuer_host!r})"

    @property
    def issuer_host(self) -> str:
        return urlsplit(self.oidc["server_metadata_url"]).netloc

    @property
    def origin(self) -> str:
        parts = urlsplit(self.oidc["redirect_uri"])
        return f"{parts.scheme}://{parts.netloc}"


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
_SECTIONS = {"oidc", "access", "groups"}
_ACCESS_KEYS = {"emails", "domains", "groups_claim", "default_pages", "require_email_verified"}
_GROUP_KEYS = {"emails", "domains", "idp_groups", "pages"}


def _strings(value, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{where} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _emails(value, where: str) -> frozenset[str]:
    emails = [v.lower() for v in _strings(value, where)]
    for email in emails:
        if not _EMAIL.match(email):
            raise UserError(f"{where}: {email!r} is not an e-mail address")
    return frozenset(emails)


def _domains(value, where: str) -> frozenset[str]:
    domains = [v.lower().removeprefix("@") for v in _strings(value, where)]
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise UserError(f"{where}: {domain!r} is not a domain (example.com)")
    return frozenset(domains)


def _pages(value, where: str, known: Iterable[str] | None) -> frozenset[str]:
    pages = frozenset(_strings(value, where))
    if known is not None:
        unknown = sorted(pages - set(known) - {ALL_PAGES})
        if unknown:
            raise UserError(
                f"{where}: unknown page {unknown[0]!r} (pages: "
                f'{", ".join(known)}, or "*" for every page)'
            )
    return pages


def _unknown(section: Mapping, allowed: set[str], where: str) -> None:
    extra = sorted(set(section) - allowed)
    if extra:
        raise UserError(f"{where}: unknown key {extra[0]!r} (keys: {', '.join(sorted(allowed))})")


def _url(value: str, where: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(f"{where} must be an absolute http(s) URL, not {value!r}")
    return value


def _read_file(path: Path, repository: Path | None) -> dict:
    if not path.is_file():
        raise UserError(f"no login config at {path}")
    resolved = path.resolve()
    if repository is not None and resolved.is_relative_to(repository.resolve()):
        raise UserError(
            f"{path}: the login config holds secrets; keep it outside the "
            f"repository ({repository}) so that it is never committed"
        )
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None


def insecure_permissions(path: Path) -> bool:
    """True when other users may read the file (it holds secrets)."""
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def find_config_file(option: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The file named by --auth-config or $UPGRADE_WAREHOUSE_AUTH_CONFIG (it must
    exist), else the default path when it exists, else None."""
    if option is not None:
        return Path(option).expanduser()
    if environ.get(AUTH_CONFIG_ENV):
        return Path(environ[AUTH_CONFIG_ENV]).expanduser()
    default = default_config_path()
    return default if default.is_file() else None


def load_login_config(
    path: Path | None,
    environ: Mapping[str, str] | None = None,
    *,
    pages: Iterable[str] | None = None,
    repository: Path | None = None,
) -> LoginConfig | None:
    """The login settings from ``path`` (may be None) and the environment.

    None when nothing at all is configured (no file, no variable). Anything partial or
    invalid is a :class:`UserError` naming the key. ``pages`` (the app's page ids)
    validates the page names; ``repository`` refuses a file inside the repository.
    """
    environ = os.environ if environ is None else environ
    data = _read_file(path, repository) if path is not None else {}
    source = str(path) if path is not None else "the environment"
    _unknown(data, _SECTIONS, source)
    oidc_section = data.get("oidc", {})
    access = data.get("access", {})
    groups_section = data.get("groups", {})
    for name, section in (("oidc", oidc_section), ("access", access), ("groups", groups_section)):
        if not isinstance(section, dict):
            raise UserError(f"{source}: [{name}] must be a table")
    _unknown(oidc_section, {*OIDC_KEYS, "client_kwargs", "provider_name"}, f"{source}: [oidc]")
    _unknown(access, _ACCESS_KEYS, f"{source}: [access]")

    oidc = {key: oidc_section.get(key) for key in OIDC_KEYS}
    for key, var in OIDC_ENV.items():
        if environ.get(var):
            oidc[key] = environ[var]
    allow = {key: access.get(key, []) for key in ALLOW_ENV}
    for key, var in ALLOW_ENV.items():
        if environ.get(var):
            allow[key] = [v for v in environ[var].split(",") if v.strip()]
    if path is None and not any(oidc.values()) and not any(allow.values()):
        return None

    missing = [key for key in OIDC_KEYS if not oidc[key]]
    if missing:
        raise UserError(f"the login config ({source}) is missing {', '.join(missing)}: " + HOW_TO)
    for key in OIDC_KEYS:
        if not isinstance(oidc[key], str):
            raise UserError(f"{source}: oidc.{key} must be a string")
    _url(oidc["server_metadata_url"], f"{source}: oidc.server_metadata_url")
    _url(oidc["redirect_uri"], f"{source}: oidc.redirect_uri")
    if not urlsplit(oidc["redirect_uri"]).path.endswith(CALLBACK_PATH):
        raise UserError(
            f"{source}: oidc.redirect_uri must end with {CALLBACK_PATH} (the "
            "dashboard's callback), e.g. https://dashboard.example.com"
            f"{CALLBACK_PATH}"
        )
    if len(oidc["cookie_secret"]) < MIN_COOKIE_SECRET:
        raise UserError(
            f"{source}: oidc.cookie_secret must be at least {MIN_COOKIE_SECRET} "
            "random characters (python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
        )
    client_kwargs = oidc_section.get("client_kwargs", {})
    if not isinstance(client_kwargs, dict) or not all(
        isinstance(v, str) for v in client_kwargs.values()
    ):
        raise UserError(f"{source}: oidc.client_kwargs must be a table of strings")

    known = list(pages) if pages is not None else None
    groups = []
    for name, section in groups_section.items():
        where = f"{source}: [groups.{name}]"
        if not isinstance(section, dict):
            raise UserError(f"{where} must be a table")
        _unknown(section, _GROUP_KEYS, where)
        if "pages" not in section:
            raise UserError(f'{where} needs pages (page ids, or "*" for every page)')
        groups.append(
            Group(
                name=name,
                emails=_emails(section.get("emails", []), f"{where} emails"),
                domains=_domains(section.get("domains", []), f"{where} domains"),
                idp_groups=frozenset(
                    _strings(section.get("idp_groups", []), f"{where} idp_groups")
                ),
                pages=_pages(section["pages"], f"{where} pages", known),
            )
        )
    groups_claim = access.get("groups_claim")
    if groups_claim is not None and not isinstance(groups_claim, str):
        raise UserError(f"{source}: [access] groups_claim must be a string")
    if any(g.idp_groups for g in groups) and not groups_claim:
        raise UserError(
            f"{source}: a group lists idp_groups but [access] groups_claim "
            '(the ID-token claim that holds them, e.g. "groups") is not set'
        )
    require_verified = access.get("require_email_verified", True)
    if not isinstance(require_verified, bool):
        raise UserError(f"{source}: [access] require_email_verified must be true or false")
    policy = AccessPolicy(
        require_email_verified=require_verified,
        emails=_emails(allow["emails"], f"{source}: [access] emails"),
        domains=_domains(allow["domains"], f"{source}: [access] domains"),
        groups=tuple(groups),
        groups_claim=groups_claim,
        default_pages=_pages(
            access.get("default_pages", [ALL_PAGES]), f"{source}: [access] default_pages", known
        ),
        provider=str(oidc_section.get("provider_name") or "")
        or provider_name(oidc["server_metadata_url"]),
    )
    if policy.empty():
        raise UserError(
            f"the login config ({source}) allows no one: add [access] emails "
            "and/or domains (or groups with members)"
        )
    return LoginConfig(oidc=oidc, policy=policy, client_kwargs=client_kwargs, source=source)


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def write_streamlit_secrets(config: LoginConfig, directory: Path) -> Path:
    """Streamlit's ``[auth]`` section in ``directory/secrets.toml`` (mode 0600); the
    command passes it to ``streamlit run --secrets.files``."""
    path = directory / "secrets.toml"
    lines = ["[auth]"]
    lines += [f"{key} = {_toml_string(config.oidc[key])}" for key in OIDC_KEYS]
    if config.client_kwargs:
        pairs = ", ".join(
            f"{_toml_string(k)} = {_toml_string(v)}" for k, v in config.client_kwargs.items()
        )
        lines.append(f"client_kwargs = {{ {pairs} }}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path
