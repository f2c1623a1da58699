"""Webhook delivery against real HTTP listeners on loopback: signed POST, address checks, no redirects.

The listeners live on 127.0.0.1, so the tests that deliver to them allow private URLs, as
the service tests do with SPACEPORT_INGEST_ALLOW_PRIVATE_URLS=1.
"""

from __future__ import annotations

import hmac
import json
from hashlib import sha256

import pytest

from service_helpers import WebhookListener
from spaceport.errors import InputError
from spaceport.ingest.options import IngestOptions
from spaceport.notify import with_retries
from spaceport.notify.webhook import WebhookError, post_webhook

LOOPBACK_ALLOWED = IngestOptions(allow_private_urls=True)


@pytest.fixture
def listeners():
    opened: list[WebhookListener] = []

    def open_listener(**kwargs) -> WebhookListener:
        opened.append(WebhookListener(**kwargs))
        return opened[-1]

    yield open_listener
    for listener in opened:
        listener.close()


def test_delivery_is_signed(listeners):
    hook = listeners(fail_first=0)
    post_webhook(hook.url, {"id": "j1", "status": "completed"}, "s3cret", LOOPBACK_ALLOWED)
    headers, body = hook.received[0]
    assert json.loads(body) == {"id": "j1", "status": "completed"}
    assert headers["X-Spaceport-Signature"] == "sha256=" + hmac.new(b"s3cret", body, sha256).hexdigest()


def test_private_target_is_refused_at_delivery(listeners):
    hook = listeners(fail_first=0)
    with pytest.raises(InputError, match="127.0.0.1.*refusing"):
        post_webhook(hook.url, {"id": "j1"}, None, IngestOptions())
    assert hook.attempts == 0


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_to_a_private_address_is_not_followed(listeners, status):
    trap = listeners(fail_first=0)
    redirector = listeners(redirect=(status, trap.url))
    with pytest.raises(WebhookError, match=f"HTTP {status}, a redirect to {trap.url}; redirects are not followed"):
        post_webhook(redirector.url, {"id": "j1"}, "s3cret", LOOPBACK_ALLOWED)
    assert redirector.attempts == 1 and trap.attempts == 0


def test_a_redirect_counts_as_a_failed_delivery_and_is_retried(listeners):
    redirector = listeners(redirect=(302, "http://169.254.169.254/latest/meta-data/"))
    delivered = with_retries("webhook", lambda: post_webhook(redirector.url, {"id": "j1"}, None, LOOPBACK_ALLOWED),
                             attempts=2, delay_s=0.0)
    assert delivered is False and redirector.attempts == 2
