"""The secrets of analysis services: what must be sent to a service (its header token or basic
password) is kept encrypted, never hashed, since the dispatcher must recover it.

Fernet (AES-128-CBC + HMAC-SHA256, from the ``cryptography`` package already in the venv) with a
key derived by HKDF-SHA256 from the server's ``secret_key`` (the setting, else
``<data_dir>/secret_key``) and a fixed context string, so the session-signing key itself is
never used for encryption. Changing ``secret_key`` makes stored secrets unreadable: the
dispatcher then fails those analyses saying the service must be registered again.
"""
from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .auth import secret_key

CONTEXT = b"nocturne analysis service secrets v1"


class SecretUnreadable(ValueError):
    """The stored secret was encrypted with another secret_key, or was altered."""


def _fernet(config) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=CONTEXT).derive(
        secret_key(config.data_dir, config.secret_key))
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(config, secret: str) -> str:
    return _fernet(config).encrypt(secret.encode()).decode()


def decrypt(config, stored: str) -> str:
    try:
        return _fernet(config).decrypt(stored.encode()).decode()
    except (InvalidToken, ValueError):
        raise SecretUnreadable("the service's secret cannot be decrypted (secret_key changed?); "
                               "register the service again") from None
