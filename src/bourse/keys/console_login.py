"""Console logins at the edge: argon2id password hashes, TOTP second factors, session tokens.

The engine keeps only what these produce (a hash, a sealed secret, a session token's SHA-256 and
the time step of the code that opened it), so a copied journal reveals no password, no TOTP
secret and no live session. Hashing and checking run here, in the gateway, never in the engine.
"""

import base64
import hashlib
import hmac

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bourse.keys.sealing import SecretBox

PASSWORD_MIN = 12  # characters: a passphrase, as NIST SP 800-63B asks of memorized secrets
PASSWORD_MAX = 256
TOTP_STEP_S = 30  # RFC 6238's default, what every authenticator app uses
TOTP_ISSUER = "bourse"
_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" profile


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, confirm: str, name: str) -> str | None:
    """Why `password` cannot be a console password, or None."""
    if len(password) < PASSWORD_MIN:
        return f"at least {PASSWORD_MIN} characters: a passphrase of a few words is best"
    if len(password) > PASSWORD_MAX:
        return f"at most {PASSWORD_MAX} characters"
    if name and name.lower() in password.lower():
        return "must not contain your name"
    if password != confirm:
        return "the two passwords differ"
    return None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, name: str) -> str:
    """What an authenticator app scans (otpauth://totp/...)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, now_ms: int) -> int | None:
    """The time step whose code `code` is (this one or the one on either side, for a clock a
    little off), or None. The engine refuses a step already used, so a code opens one session."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now_step = now_ms // 1000 // TOTP_STEP_S
    for step in (now_step, now_step - 1, now_step + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP_S), code):
            return step
    return None


def code_at(secret: str, now_ms: int) -> str:
    """The TOTP code for `now_ms` (what the person's authenticator shows; tests and the demo)."""
    return pyotp.TOTP(secret).at(now_ms // 1000)


def seal_totp(box: SecretBox, name: str, secret: str) -> str:
    return box.seal(secret, _totp_binding(name))


def open_totp(box: SecretBox, name: str, sealed: str) -> str:
    return box.open(sealed, _totp_binding(name))


def _totp_binding(name: str) -> str:
    # bound to the person: a sealed secret copied onto another staff member does not open
    return f"staff-totp:{name}"


def csrf_token(session_token: str) -> str:
    """The form token of a session: forms carry it, so a page of another site cannot post
    with the person's cookie (the cookie is also SameSite=Strict)."""
    digest = hashlib.sha256(f"csrf:{session_token}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()
