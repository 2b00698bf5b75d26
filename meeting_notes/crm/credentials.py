"""Access tokens from environment variables or files (never from the sidecar, never written out).

Salesforce can also get its token by the OAuth 2.0 JWT bearer flow: a JWT signed (RS256) with
the connected app's private key is exchanged at ``<login_url>/services/oauth2/token``.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from meeting_notes.crm.errors import CRMAuthError
from meeting_notes.settings import CRMSettings

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_S = 180  # Salesforce accepts an exp at most 3 minutes ahead


@dataclass(frozen=True)
class Credential:
    """A bearer token and, for Salesforce, the instance it is valid for. ``repr`` hides the token."""

    token: str = field(repr=False)
    instance_url: str | None = None
    source: str = ""


def _from_env_or_file(env: str, path: Path | None, what: str) -> tuple[str, str] | None:
    value = os.environ.get(env, "").strip()
    if value:
        return value, f"${env}"
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CRMAuthError(f"{what} file {path} cannot be read: {exc.strerror}") from exc
        if text:
            return text, str(path)
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_jwt(claims: Mapping[str, object], private_key_pem: bytes) -> str:
    """An RS256 JWT (RFC 7519) signed with a PEM RSA key, using ``cryptography`` (no PyJWT)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CRMAuthError("the JWT private key is not an RSA key")
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


def salesforce_jwt_token(settings: CRMSettings) -> Credential:
    """Exchange a signed JWT for an access token (OAuth 2.0 JWT bearer flow)."""
    sf = settings.salesforce
    assert sf.jwt_private_key_file is not None
    try:
        pem = Path(sf.jwt_private_key_file).read_bytes()
    except OSError as exc:
        raise CRMAuthError(f"JWT private key {sf.jwt_private_key_file} cannot be read: {exc.strerror}") from exc
    claims = {"iss": sf.jwt_client_id, "sub": sf.jwt_username, "aud": sf.login_url.rstrip("/"), "exp": int(time.time()) + JWT_LIFETIME_S}
    assertion = sign_jwt(claims, pem)
    url = f"{sf.login_url.rstrip('/')}/services/oauth2/token"
    try:
        response = httpx.post(url, data={"grant_type": JWT_GRANT, "assertion": assertion}, timeout=settings.timeout_s)
    except httpx.HTTPError as exc:
        raise CRMAuthError(f"JWT bearer flow: {url} did not answer ({type(exc).__name__})") from exc
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code != 200 or "access_token" not in data:
        reason = data.get("error_description") or data.get("error") or response.reason_phrase
        raise CRMAuthError(f"JWT bearer flow refused by {url}: HTTP {response.status_code} {reason}")
    return Credential(data["access_token"], data.get("instance_url") or sf.instance_url, "JWT bearer flow")


def salesforce_credential(settings: CRMSettings) -> Credential:
    """The Salesforce token: the env var / file, else the JWT bearer flow when configured."""
    sf = settings.salesforce
    found = _from_env_or_file(sf.access_token_env, sf.access_token_file, "Salesforce access token")
    if found:
        if not sf.instance_url:
            raise CRMAuthError("crm.salesforce.instance_url is not set (needed with an access token).")
        return Credential(found[0], sf.instance_url, found[1])
    if sf.jwt_client_id and sf.jwt_username and sf.jwt_private_key_file:
        return salesforce_jwt_token(settings)
    raise CRMAuthError(
        f"No Salesforce credentials: set ${sf.access_token_env} (or crm.salesforce.access_token_file), or "
        "crm.salesforce.jwt_client_id, jwt_username and jwt_private_key_file for the JWT bearer flow."
    )


def hubspot_credential(settings: CRMSettings) -> Credential:
    hs = settings.hubspot
    found = _from_env_or_file(hs.access_token_env, hs.access_token_file, "HubSpot access token")
    if not found:
        raise CRMAuthError(f"No HubSpot credentials: set ${hs.access_token_env} or crm.hubspot.access_token_file.")
    return Credential(found[0], None, found[1])


def webhook_secret(settings: CRMSettings) -> Credential:
    wh = settings.webhook
    found = _from_env_or_file(wh.secret_env, wh.secret_file, "webhook secret")
    if not found:
        raise CRMAuthError(f"No webhook secret: set ${wh.secret_env} or crm.webhook.secret_file (the body is signed with it).")
    return Credential(found[0], None, found[1])
