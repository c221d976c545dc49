"""One delivery attempt: POST the signed body, succeed on 2xx, raise otherwise."""

from __future__ import annotations

import aiohttp

from dispatch.delivery.signing import signed_headers
from dispatch.store.webhooks import Webhook

USER_AGENT = "minsheng-dispatch-webhook/1"


class DeliveryFailed(Exception):
    """The receiver did not accept the delivery: no answer, or an answer other than 2xx."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


async def send(
    session: aiohttp.ClientSession,
    webhook: Webhook,
    body: bytes,
    *,
    delivery_id: str,
    event_type: str,
    timeout_s: float,
) -> int:
    """POST ``body`` to the webhook, signed now; return the 2xx status or raise DeliveryFailed.

    Redirects are not followed: a receiver that moved gets a new webhook, not our secret's
    signature sent to wherever a redirect points.
    """
    headers = signed_headers(
        webhook.secret, body, delivery_id=delivery_id, event_type=event_type, agency=webhook.agency
    )
    headers["User-Agent"] = USER_AGENT
    try:
        async with session.post(
            webhook.url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            await response.content.read(64 * 1024)  # let the connection be reused; the answer is not ours to keep
            if 200 <= response.status < 300:
                return response.status
            raise DeliveryFailed(f"the receiver answered {response.status}", status=response.status)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(f"no answer: {exc!r}") from None
