"""Platform OAuth tokens, encrypted at rest with Fernet (the key is LIBRARIAN_TOKEN_KEY).

A row holds one owner's tokens for one platform as a Fernet token of their JSON: nothing in the
database, a dump or a log reads as a credential without the key.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import ConfigError
from storage.models import PlatformToken
from storage.settings import Settings


def new_key() -> str:
    """A fresh key for LIBRARIAN_TOKEN_KEY."""
    return Fernet.generate_key().decode()


def cipher(settings: Settings) -> Fernet:
    if settings.token_key is None:
        raise ConfigError("platform tokens are stored encrypted: set LIBRARIAN_TOKEN_KEY "
                          "(make one with `librarian publish keygen`)")
    return Fernet(settings.token_key.get_secret_value().encode())


async def save(s: AsyncSession, settings: Settings, owner: str, platform: str,
               tokens: dict[str, Any]) -> None:
    """Store (or replace) the owner's tokens for the platform."""
    blob = cipher(settings).encrypt(json.dumps(tokens).encode()).decode()
    row = await s.get(PlatformToken, (owner, platform))
    if row is None:
        s.add(PlatformToken(owner=owner, platform=platform, ciphertext=blob))
    else:
        row.ciphertext = blob
    await s.flush()


async def load(s: AsyncSession, settings: Settings, owner: str,
               platform: str) -> dict[str, Any] | None:
    """The owner's tokens for the platform, or None when they never authorised it."""
    row = await s.get(PlatformToken, (owner, platform))
    if row is None:
        return None
    try:
        data: dict[str, Any] = json.loads(cipher(settings).decrypt(row.ciphertext.encode()))
    except InvalidToken:
        raise ConfigError(f"the stored {platform} tokens do not open with LIBRARIAN_TOKEN_KEY "
                          f"(was the key changed?); run `librarian publish auth {platform}` "
                          "again") from None
    return data
