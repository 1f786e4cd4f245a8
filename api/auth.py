"""Users, API tokens and who is asking: the write side's identity, kept in the store.

Users live in table ``users`` (keyed by username: an scrypt password hash and roles),
tokens in ``tokens``, keyed by the SHA-256 of the token: the token itself is shown once,
when issued, and never stored. A token carries its scopes (``annotate``, ``admin``); an
``admin`` token can only be issued to a user with the ``admin`` role.

The API reads ``Authorization: token <token>`` (``Bearer`` is accepted too): a missing or
unknown token is a 401, a token without the scope an endpoint needs a 403, both in the one
JSON error shape with a ``WWW-Authenticate`` header. The portal signs people in with a
password or a token (see :func:`sign_in`): Flask's signed session cookie holds only the user,
a random session id and a CSRF token; table ``sessions`` holds the session (keyed by user and
the SHA-256 of its id) and decides whether it is valid. Sign-out removes it, a password change
removes every session of the user, and a session ends 7 days after it began whatever the
cookie says.

Only the tables of :data:`USER_TABLES` are ever written from the web side
(:func:`writable`): the alert tables stay written by the ingest alone.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface

from store import Store, StoreError, Table

from .errors import ApiError, error_response

SCOPES = ("annotate", "admin", "analysis")
ROLES = ("admin",)
USER_TABLES = ("annotations", "annotation_tag", "internal_name", "users", "tokens", "sessions",
               "analysis_services", "analyses", "analysis_queue", "analysis_callbacks")
TOKEN_PREFIX = "noc_"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
REALM = 'token realm="nocturne"'
SESSION_LIFETIME = dt.timedelta(days=7)


class AuthError(ApiError):
    """401 (who are you?) or 403 (not allowed); answered with a WWW-Authenticate header."""


@dataclass(frozen=True)
class Identity:
    user: str
    scopes: frozenset
    via: str               # "token" or "password"
    token_digest: str = ""

    def can(self, scope: str) -> bool:
        return scope in self.scopes


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# -- the tables ------------------------------------------------------------------------------
_ready: "weakref.WeakSet[Store]" = weakref.WeakSet()
_ready_lock = threading.Lock()


def ensure_tables(store: Store) -> None:
    """Create the annotation, user and token tables if this store predates them (once per store)."""
    if store in _ready:
        return
    with _ready_lock:
        missing = set(USER_TABLES) - set(store.existing_tables())
        if missing:
            try:
                store.create_tables()
            except StoreError:  # another worker made them at the same moment
                if set(USER_TABLES) - set(store.existing_tables()):
                    raise
        _ready.add(store)


def writable(store: Store, name: str) -> Table:
    """``store.table(name)`` for writing; only the tables of :data:`USER_TABLES` are."""
    if name not in USER_TABLES:
        raise PermissionError(f"table {name!r} is written by the ingest only, not by the API or the portal")
    ensure_tables(store)
    return store.table(name)


# -- passwords -------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex), from :func:`hashlib.scrypt`."""
    check_password_rules(password)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    try:
        kind, n, r, p, salt, digest = (stored or "").split("$")
        if kind != "scrypt" or not 0 < len(password) <= MAX_PASSWORD:
            return False
        found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found.hex(), digest)


def check_password_rules(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")


# -- users -----------------------------------------------------------------------------------
def check_username(name: str) -> str:
    if not isinstance(name, str) or not USERNAME.match(name):
        raise ValueError(f"username {name!r}: 2 to 32 characters, lower-case letters, digits, '.', '_' or '-'")
    return name


def add_user(store: Store, name: str, password: str | None = None, roles=()) -> None:
    """Create user ``name``; ValueError if it exists or a value is invalid."""
    check_username(name)
    bad = sorted(set(roles) - set(ROLES))
    if bad:
        raise ValueError(f"unknown role(s) {', '.join(bad)}; known: {', '.join(ROLES)}")
    table = writable(store, "users")
    if table.row(table.keys.build(name)):
        raise ValueError(f"user {name!r} exists already")
    table.put(table.keys.build(name), {"u:password": hash_password(password) if password else None,
                                       "u:roles": sorted(set(roles)), "u:created": now_iso()})


def set_password(store: Store, name: str, password: str) -> int:
    """Change the password of ``name`` and end every portal session of the user; return how
    many sessions ended."""
    table = writable(store, "users")
    if not get_user(store, name):
        raise ValueError(f"no user {name!r}")
    table.put(table.keys.build(name), {"u:password": hash_password(password)})
    return end_sessions(store, name)


def get_user(store: Store, name: str) -> dict:
    """The user's cells (``u:roles``, ``u:password``...), or an empty dict."""
    if not isinstance(name, str) or not USERNAME.match(name):
        return {}
    ensure_tables(store)
    table = store.table("users")
    return table.row(table.keys.build(name))


def list_users(store: Store) -> list[dict]:
    ensure_tables(store)
    table = store.table("users")
    return [{"user": table.keys.parse(k)["username"], "roles": c.get("u:roles", []), "created": c.get("u:created"),
             "password": bool(c.get("u:password"))} for k, c in table.scan(columns=["u:roles", "u:created", "u:password"])]


# -- tokens ----------------------------------------------------------------------------------
def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(store: Store, user: str, scopes, note: str = "") -> tuple[str, str]:
    """A new token for ``user`` with ``scopes``: ``(token, id)``. The token is not kept."""
    scopes = sorted(set(scopes))
    if not scopes or set(scopes) - set(SCOPES):
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}, got {', '.join(scopes) or 'none'}")
    cells = get_user(store, user)
    if not cells:
        raise ValueError(f"no user {user!r}; create it first (user add {user})")
    if "admin" in scopes and "admin" not in cells.get("u:roles", []):
        raise ValueError(f"user {user!r} has no admin role: an admin token cannot be issued to it")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    digest = token_digest(token)
    table = writable(store, "tokens")
    table.put(table.keys.build(digest), {"t:id": digest[:12], "t:user": user, "t:scopes": scopes,
                                         "t:note": note[:200] or None, "t:created": now_iso()})
    return token, digest[:12]


def list_tokens(store: Store, user: str | None = None) -> list[dict]:
    ensure_tables(store)
    rows = [{"id": c.get("t:id"), "user": c.get("t:user"), "scopes": c.get("t:scopes", []), "note": c.get("t:note", ""),
             "created": c.get("t:created"), "revoked": c.get("t:revoked")} for _, c in store.table("tokens").scan()]
    return [r for r in rows if user is None or r["user"] == user]


def revoke_token(store: Store, token_id: str) -> int:
    """Revoke every token whose id is ``token_id`` (or starts with it, 6+ digits); return how many."""
    token_id = (token_id or "").strip().lower()
    if len(token_id) < 6 or not all(c in "0123456789abcdef" for c in token_id):
        raise ValueError("a token id is 6 to 12 hexadecimal digits, as `token list` shows")
    table = writable(store, "tokens")
    done = 0
    for key, cells in table.scan(row_prefix=token_id, columns=["t:id", "t:revoked"]):
        if not cells.get("t:revoked"):
            table.put(key, {"t:revoked": now_iso()})
            done += 1
    return done


def token_identity(store: Store, token: str) -> Identity | None:
    """Who ``token`` acts for, or None when it is unknown or revoked."""
    if not token or len(token) > 200:
        return None
    ensure_tables(store)
    table = store.table("tokens")
    digest = token_digest(token)
    cells = table.row(table.keys.build(digest))
    if not cells or cells.get("t:revoked") or not cells.get("t:user"):
        return None
    return Identity(cells["t:user"], frozenset(cells.get("t:scopes", [])), "token", digest)


_dummy_hash: list[str] = []


def dummy_hash() -> str:
    """A hash of a random password with the same scrypt cost, made once per process."""
    if not _dummy_hash:
        _dummy_hash.append(hash_password(secrets.token_urlsafe(16)))
    return _dummy_hash[0]


def password_identity(store: Store, user: str, password: str) -> Identity | None:
    """The identity of ``user`` if ``password`` is theirs. An unknown user, or one without a
    password, costs the same scrypt computation (against a dummy hash), so the time taken
    does not tell whether a username exists."""
    cells = get_user(store, (user or "").strip().lower())
    stored = cells.get("u:password") if cells else None
    if not verify_password(password or "", stored or dummy_hash()) or not stored:
        return None
    roles = cells.get("u:roles", [])
    return Identity(user.strip().lower(), frozenset(["annotate", *(["admin"] if "admin" in roles else [])]), "password")


# -- requests ------------------------------------------------------------------------------
def request_identity(store: Store) -> Identity:
    """The identity of the API request's ``Authorization: token <token>``; 401 if none."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if not header:
        raise AuthError(401, "this endpoint needs an API token: send the header 'Authorization: token <token>'")
    if scheme.lower() not in ("token", "bearer") or not token.strip():
        raise AuthError(401, "the Authorization header must be 'token <token>'")
    identity = token_identity(store, token.strip())
    if identity is None:
        raise AuthError(401, "invalid or revoked token")
    return identity


def require(identity: Identity, *scopes: str) -> None:
    """403 unless ``identity`` holds one of ``scopes``."""
    if not any(identity.can(s) for s in scopes):
        raise AuthError(403, f"this token lacks the scope {' or '.join(scopes)} "
                             f"(it has: {', '.join(sorted(identity.scopes)) or 'none'})")


# -- the portal's session -------------------------------------------------------------------
def _session_key(table: Table, user: str, sid: str) -> str:
    return table.keys.build(user, token_digest(sid))


def sign_in(store: Store, identity: Identity) -> str:
    """Begin a session for ``identity``: a row in ``sessions`` and, in the cookie, the user,
    the session id and a fresh CSRF token; return the CSRF token."""
    table = writable(store, "sessions")
    now = dt.datetime.now(dt.timezone.utc)
    for key, cells in table.scan(row_prefix=table.keys.prefix(identity.user), columns=["s:expires"]):
        if cells.get("s:expires", 0) <= now.timestamp():  # the user's ended sessions go when a new one begins
            table.delete(key)
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    table.put(_session_key(table, identity.user, sid),
              {"s:via": identity.via, "s:token": identity.token_digest or None, "s:created": now_iso(),
               "s:expires": int((now + SESSION_LIFETIME).timestamp())})
    session.clear()
    session["auth"] = {"user": identity.user, "sid": sid, "csrf": csrf}
    session.permanent = True
    return csrf


def sign_out(store: Store) -> None:
    """End the cookie's session: its row goes, so a copy of the cookie signs nobody in."""
    auth = session.pop("auth", None)
    if isinstance(auth, dict) and isinstance(auth.get("user"), str) and isinstance(auth.get("sid"), str):
        table = writable(store, "sessions")
        table.delete(_session_key(table, auth["user"], auth["sid"]))


def end_sessions(store: Store, user: str) -> int:
    """End every portal session of ``user``; return how many there were."""
    table = writable(store, "sessions")
    keys = [key for key, _ in table.scan(row_prefix=table.keys.prefix(user), columns=["s:expires"])]
    for key in keys:
        table.delete(key)
    return len(keys)


def session_identity(store: Store, csrf: str | None = None) -> Identity | None:
    """The signed-in identity, checked against the store: None unless the cookie's session is
    in ``sessions`` and has not ended, its token (if it signed in with one) is not revoked, and
    its user still exists; with ``csrf``, also None unless it matches the session's CSRF token."""
    auth = session.get("auth")
    if not isinstance(auth, dict) or not all(isinstance(auth.get(k), str) and auth.get(k) for k in ("user", "sid")):
        return None
    if csrf is not None and not hmac.compare_digest(str(csrf), str(auth.get("csrf", ""))):
        return None
    if not USERNAME.match(auth["user"]):
        return None
    ensure_tables(store)
    sessions = store.table("sessions")
    key = _session_key(sessions, auth["user"], auth["sid"])
    found = sessions.row(key)
    if not found:
        return None
    if found.get("s:expires", 0) <= dt.datetime.now(dt.timezone.utc).timestamp():
        writable(store, "sessions").delete(key)
        return None
    if found.get("s:via") == "token":
        table = store.table("tokens")
        cells = table.row(table.keys.build(found.get("s:token") or "-"))
        if not cells or cells.get("t:revoked") or cells.get("t:user") != auth["user"]:
            return None
        return Identity(auth["user"], frozenset(cells.get("t:scopes", [])), "token", found["s:token"])
    cells = get_user(store, auth["user"])
    if not cells:
        return None
    roles = cells.get("u:roles", [])
    return Identity(auth["user"], frozenset(["annotate", *(["admin"] if "admin" in roles else [])]), "password")


def session_csrf() -> str:
    auth = session.get("auth")
    return auth.get("csrf", "") if isinstance(auth, dict) else ""


def secret_key(data_dir: Path, configured: str = "") -> bytes:
    """The setting ``secret_key`` (``NOCTURNE_SECRET_KEY``) when given, else
    ``<data_dir>/secret_key`` (made on first use, mode 0600)."""
    if configured:
        return configured.encode()
    path = Path(data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic: of workers racing, the first one's key wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


class LazyKeySessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, reading the secret key only when a cookie is used."""

    def get_signing_serializer(self, app):
        if not app.secret_key:
            config = app.config["NOCTURNE"]
            app.secret_key = secret_key(config.data_dir, config.secret_key)
        return super().get_signing_serializer(app)

    def open_session(self, app, request_):
        if not request_.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request_)


def init_auth(app: Flask) -> None:
    """Sessions for the portal and the 401/403 answers of the API."""
    app.session_interface = LazyKeySessions()
    app.config["SESSION_COOKIE_NAME"] = "nocturne_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config["NOCTURNE"].api_url.startswith("https://")
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME  # Flask's own default (31 days) is already set

    @app.errorhandler(AuthError)
    def _auth_error(exc: AuthError):
        response = error_response(exc.status, exc.message)
        response.headers["WWW-Authenticate"] = REALM if exc.status == 401 else \
            f'{REALM}, error="insufficient_scope"'
        return response
