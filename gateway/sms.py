"""The built-in SMS sender: login codes through a generic SMS gateway over HTTP.

``ONESTOP_LOGIN_CODE_SENDER=http`` selects it. Each code is one ``POST`` of
``{"phone": "13800138000", "code": "123456", "template": "<ONESTOP_SMS_TEMPLATE>"}`` to
``ONESTOP_SMS_URL`` with the key in a header (``Authorization: Bearer <key>`` unless
``ONESTOP_SMS_KEY_HEADER`` names another); any 2xx answer means the gateway took the
message. Carriers' SMS platforms and in-house relays differ in everything else, so a
provider with another shape is a small adapter service in front of it, or a
``package.module:factory`` sender of its own.

The phone and the code are personal data and a credential: neither is ever logged,
put in an error or left in an exception's context. Failures are logged by kind (HTTP
status, timeout, connection error) and answered ``UNAVAILABLE``.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from gateway.config import Settings
from gateway.errors import Unavailable

__all__ = ["HttpSmsSender"]

log = logging.getLogger("onestop.sms")

_UNAVAILABLE = "短信服务暂不可用，请稍后再试 (SMS unavailable)"


class HttpSmsSender:
    """POSTs each login code to an SMS gateway, within one deadline for the whole call.

    httpx's timeouts are per phase (connect, each read), so a gateway trickling its
    answer would pass them all: ``asyncio.timeout`` bounds the call from connect to last
    byte. Redirects are not followed (they would carry the code to another host). A
    client per message: login codes are a few a second at most, and nothing is left
    open when a worker stops.
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        template: str = "onestop_login_code",
        key_header: str = "Authorization",
        timeout: float = 3.0,
    ) -> None:
        self.url = url
        self.template = template
        self.timeout = timeout
        value = f"Bearer {key}" if key_header.lower() == "authorization" else key
        self._headers = {key_header: value}

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpSmsSender:
        if not (settings.sms_url and settings.sms_key):
            raise ValueError("ONESTOP_SMS_URL and ONESTOP_SMS_KEY (or _FILE) are required")
        return cls(
            settings.sms_url,
            settings.sms_key,
            template=settings.sms_template,
            key_header=settings.sms_key_header,
            timeout=settings.sms_timeout_ms / 1000,
        )

    async def send(self, phone: str, code: str) -> None:
        body = {"phone": phone, "code": code, "template": self.template}
        try:
            async with (
                asyncio.timeout(self.timeout),
                httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client,
            ):
                response = await client.post(self.url, json=body, headers=self._headers)
        except (httpx.HTTPError, TimeoutError) as exc:
            # The exception's text may hold the request (URL, body): its type only.
            log.warning("SMS gateway unreachable: %s", type(exc).__name__)
            raise _unavailable() from None
        if not response.is_success:
            # 401/403/404/422 are our configuration (key, URL, template): an operator's
            # problem, logged as an error; 429 and 5xx are the gateway's load.
            status = response.status_code
            level = logging.WARNING if status == 429 or status >= 500 else logging.ERROR
            log.log(level, "SMS gateway refused the message", extra={"status": status})
            raise _unavailable()


def _unavailable() -> Unavailable:
    return Unavailable(_UNAVAILABLE, extensions={"dependency": "sms"})
