"""Webhooks: the job record POSTed as JSON, signed with HMAC-SHA256 when the job has a secret.

The signature header is `X-Spaceport-Signature: sha256=<hex of HMAC(secret, body)>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request

TIMEOUT_S = 15
SIGNATURE_HEADER = "X-Spaceport-Signature"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(url: str, payload: dict, secret: str | None) -> None:
    """POST `payload`; raises on a network error or a non-2xx answer (urllib raises HTTPError)."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "spaceport"}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        response.read()
