"""People and personal access tokens. A token is `evv_<id>_<secret>`: the id finds the row, only a salted
scrypt hash of the secret is stored (RFC 7914 parameters n=2^14, r=8, p=1, the interactive-login cost),
and it is printed once when issued. A token carries exactly one role, and a role grants only its actions:

- annotator: label tasks (and then read the other labels of the dimensions they labelled);
- reviewer: read labels, mark each annotation pass or fail with a reason (never their own);
- auditor: read labels, decide on fails and disagreements, finalise a task (never their own).

One person may hold several roles (one token each); "own work" is decided by the person, not the token.
Whoever can open the database file is an administrator: tokens guard the app and API, not the file.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from evalverse.errors import AccessError, InputError

ROLES = ("annotator", "reviewer", "auditor")
ACTIONS = {
    "annotator": frozenset({"annotate"}),
    "reviewer": frozenset({"read_labels", "review"}),
    "auditor": frozenset({"read_labels", "audit"}),
}
PREFIX = "evv"
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
KDF = "scrypt:n=16384,r=8,p=1"
# Tokens this process has verified with scrypt once: (token id, stored hash) -> sha256 of the secret, so the
# app's many calls per minute cost one fast hash each. Revocation still acts at once: every call reads the
# token's row first.
_verified: dict[tuple[str, str], bytes] = {}


@dataclass(frozen=True)
class IssuedToken:
    name: str
    role: str
    token_id: str
    token: str  # shown once; never stored


@dataclass(frozen=True)
class Principal:
    """Who is calling: the person behind a valid token and the role that token carries."""

    person_id: int
    name: str
    role: str
    token_id: str

    def can(self, action: str) -> bool:
        return action in ACTIONS[self.role]


def _hash(secret: str, salt: bytes, kdf: str) -> bytes:
    if kdf != KDF:
        raise AccessError(f"this token was made with an unknown key derivation {kdf!r}; issue a new one")
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, dklen=32, **SCRYPT)


def issue_token(store, name: str, role: str) -> IssuedToken:
    """Add `name` (if new) with `role` and return their new token (the only time it is ever shown)."""
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    token_id, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(32), secrets.token_bytes(16)
    store.add_role_token(name, role, token_id, KDF, salt.hex(), _hash(secret, salt, KDF).hex())
    return IssuedToken(name.strip(), role, token_id, f"{PREFIX}_{token_id}_{secret}")


def authenticate(store, token: str | None) -> Principal:
    """The principal behind `token`; AccessError (one message for every failure) when it is missing,
    malformed, unknown, revoked or wrong."""
    denied = AccessError("a valid personal access token is needed for this (ask an administrator: "
                         "`evalverse annotators add NAME --role ROLE`)")
    if not token or not isinstance(token, str):
        raise denied
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise denied
    record = store.token_record(parts[1])
    if record is None or record["revoked_at"] is not None:
        raise denied
    quick = hashlib.sha256(parts[2].encode("utf-8")).digest()
    key = (record["token_id"], record["token_hash"])
    known = _verified.get(key)
    if known is None or not hmac.compare_digest(known, quick):
        if not hmac.compare_digest(_hash(parts[2], bytes.fromhex(record["salt"]), record["kdf"]).hex(), record["token_hash"]):
            raise denied
        _verified[key] = quick
    return Principal(int(record["annotator_id"]), record["name"], record["role"], record["token_id"])


def require(principal: Principal, action: str) -> None:
    if not principal.can(action):
        allowed = [r for r, acts in ACTIONS.items() if action in acts]
        raise AccessError(f"{principal.name}'s {principal.role} token cannot {action.replace('_', ' ')}; "
                          f"that needs a {' or '.join(allowed)} token")
