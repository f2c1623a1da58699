"""Webhooks: the job record POSTed as JSON, signed with HMAC-SHA256 when the job has a secret.

The signature header is `X-Spaceport-Signature: sha256=<hex of HMAC(secret, body)>`.

The target gets the same server-side request forgery checks as ingest downloads
(`spaceport.ingest.download`): at delivery time its host must resolve to public
addresses only (unless the operator sets `SPACEPORT_INGEST_ALLOW_PRIVATE_URLS`), and the
POST goes to the address that was checked. Redirects are never followed: a 3xx answer is
a failed delivery, like any other non-2xx answer, so a redirect cannot lead the POST to a
private address.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json

from spaceport.errors import SpaceportError
from spaceport.ingest.download import connect
from spaceport.ingest.options import IngestOptions

TIMEOUT_S = 15
SIGNATURE_HEADER = "X-Spaceport-Signature"


class WebhookError(SpaceportError):
    """The webhook could not be delivered (refused address, network error, non-2xx answer)."""


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(url: str, payload: dict, secret: str | None, options: IngestOptions) -> None:
    """POST `payload` as JSON to `url`, whose address is checked with `options.allow_private_urls`.

    Raises InputError for a refused URL and WebhookError for a failed delivery: a network
    error or any answer other than 2xx (3xx redirects included; they are not followed).
    """
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "spaceport"}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    connection, path = connect(url, options, TIMEOUT_S)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as error:
        raise WebhookError(f"webhook {url}: delivery failed ({error})") from None
    finally:
        connection.close()
    if 300 <= response.status < 400:
        where = response.getheader("Location") or "nowhere"
        raise WebhookError(f"webhook {url}: answered HTTP {response.status}, a redirect to {where}; redirects are not followed")
    if not 200 <= response.status < 300:
        raise WebhookError(f"webhook {url}: answered HTTP {response.status} {response.reason}")
