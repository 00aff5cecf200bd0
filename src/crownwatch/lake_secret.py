"""The lake's own secret: the salt private identifiers are hashed under.

A roster's personal phone numbers, e-mail addresses, payroll accounts and home
addresses are stored only as ``sha256(salt || '|' || value)`` (see
:mod:`crownwatch.tables.workforce`). Unsalted, a phone-number hash is no protection —
the numbers of a country are few enough to hash them all — so the salt must be a secret
that lives with the lake, never in it:

* ``$CROWNWATCH_HASH_SALT`` when set (several lakes, or a lake rebuilt from raw
  files, that must give one employee's phone the same hash);
* else ``<lake>/.secret/hash_salt``: 32 random bytes as hex, made on first use with
  mode 0600 in a 0700 folder. It is written whole or not at all (a temporary file
  linked into place), so a crash never leaves a half salt that later hashes would
  silently disagree with.

Changing the salt changes every hash: rows ingested under the old one no longer match
rows ingested under the new one. Keep the file with the lake (a backup of the lake
without it cannot be joined to new exports).

How a source gets it: sources are called as ``parse(reader, path)`` without the lake,
so the lake hands the :class:`~crownwatch.sources.reader.Reader` its root
(``reader.lake_root``) and a source that hashes calls :func:`hash_salt` with it — the
salt is read (or made) only when a file that needs it is ingested.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

SALT_ENV = "CROWNWATCH_HASH_SALT"
_HEX = re.compile(r"[0-9a-f]{64}")


class SaltError(OSError):
    """The salt cannot be read or made. An ``OSError``: to the lake, like a disk it
    cannot write — the file is not ingested, and the next run tries it again."""


def salt_path(root: Path) -> Path:
    return Path(root) / ".secret" / "hash_salt"


def hash_salt(root: Path | None) -> str:
    """The salt for the lake at ``root``: ``$CROWNWATCH_HASH_SALT``, else the lake's
    secret file, made if missing. ``root`` None (a source run outside a lake) needs the
    environment variable."""
    given = os.environ.get(SALT_ENV)
    if given:
        return given
    if root is None:
        raise SaltError(f"no salt to hash private identifiers with: set {SALT_ENV}")
    path = salt_path(root)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".hash_salt.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, (secrets.token_hex(32) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if another process made one first: use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return _read(path)
    except OSError as exc:
        if isinstance(exc, SaltError):
            raise
        raise SaltError(f"cannot make the lake's hash salt at {path}: {exc}") from exc


def _read(path: Path) -> str:
    value = path.read_text(encoding="ascii", errors="replace").strip()
    if not _HEX.fullmatch(value):
        raise SaltError(
            f"{path} is not a hash salt (64 hex digits); restore it from a backup or set "
            f"{SALT_ENV} — a new salt would change every hash already in the lake"
        )
    return value
