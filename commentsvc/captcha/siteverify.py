"""reCAPTCHA v2/v3, hCaptcha and Turnstile: one siteverify protocol.

A form-encoded POST of ``secret``, ``response`` and ``remoteip``; the answer is
JSON with ``success``, ``error-codes`` and, depending on the provider,
``hostname``, ``action`` and ``score``.
"""

import functools
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from flask import current_app
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..models import CaptchaProvider, Site
from .result import ACTION, CaptchaResult, Outcome

log = logging.getLogger(__name__)

# Codes meaning "expired or already used" (reCAPTCHA and Turnstile, hCaptcha).
EXPIRED_CODES = {
    "timeout-or-duplicate",
    "expired-input-response",
    "already-seen-response",
    "invalid-or-already-seen-response",
}
# reCAPTCHA Enterprise reports the same in tokenProperties.invalidReason.
EXPIRED_REASONS = {"EXPIRED", "DUPE"}
MISCONFIGURED_CODES = {
    "invalid-input-secret",
    "missing-input-secret",
    "sitekey-secret-mismatch",
    "invalid-sitekey",
}
# The provider's own trouble: not the reader's fault.
UNAVAILABLE_CODES = {"internal-error"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class ProviderSpec:
    url_setting: str
    checks_action: bool
    checks_score: bool


SPECS = {
    CaptchaProvider.RECAPTCHA_V2: ProviderSpec(
        "CAPTCHA_RECAPTCHA_VERIFY_URL", False, False
    ),
    CaptchaProvider.RECAPTCHA_V3: ProviderSpec(
        "CAPTCHA_RECAPTCHA_VERIFY_URL", True, True
    ),
    CaptchaProvider.HCAPTCHA: ProviderSpec("CAPTCHA_HCAPTCHA_VERIFY_URL", False, False),
    CaptchaProvider.TURNSTILE: ProviderSpec(
        "CAPTCHA_TURNSTILE_VERIFY_URL", True, False
    ),
}


def http_session() -> requests.Session:
    """The process's session for siteverify calls (its adapters pool the
    connections), made on first use.

    Only connection failures are retried: a request that reached the provider
    has spent the token, and sending it again would come back as a duplicate.
    """
    session = current_app.extensions.get("commentsvc.captcha_http")
    if session is None:
        session = requests.Session()
        # The environment's proxy settings are read once per URL (see
        # _proxies_for), not on every call: requests would scan os.environ each
        # time, a third of a verification's CPU.
        session.trust_env = False
        retry = Retry(
            total=1,
            connect=1,
            read=0,
            status=0,
            other=0,
            allowed_methods=None,
            raise_on_status=False,
        )
        session.mount("https://", HTTPAdapter(max_retries=retry))
        session.mount("http://", HTTPAdapter(max_retries=retry))
        current_app.extensions["commentsvc.captcha_http"] = session
    return session


@functools.lru_cache(maxsize=64)
def _proxies_for(url: str) -> dict:
    """HTTP(S)_PROXY / NO_PROXY for *url*, as requests itself would read them."""
    return requests.utils.get_environ_proxies(url)


def _hostnames(site: Site) -> set[str]:
    return {urlsplit(origin).hostname for origin in site.allowed_origins or []}


def verify(site: Site, token: str, remote_ip: str | None) -> CaptchaResult:
    """Ask the site's provider about *token*; never raises for provider trouble."""
    provider = site.captcha_provider
    spec = SPECS[provider]
    config = current_app.config
    result = CaptchaResult(provider=provider.value, outcome=Outcome.UNAVAILABLE)
    if not site.captcha_secret:
        result.outcome = Outcome.MISCONFIGURED
        result.detail = "the site has no captcha secret"
        return result

    form = {"secret": site.captcha_secret, "response": token}
    if remote_ip:
        form["remoteip"] = remote_ip
    if provider == CaptchaProvider.HCAPTCHA and site.captcha_site_key:
        # hCaptcha then refuses a token solved for another site key.
        form["sitekey"] = site.captcha_site_key
    started = time.monotonic()
    try:
        url = config[spec.url_setting]
        # Prepared here and handed straight to the transport adapter (with its
        # retry policy): Session.post's merging of settings, cookies and hooks
        # (none of which apply) cost a third of a verification's CPU. An
        # adapter never follows redirects.
        request = requests.PreparedRequest()
        request.prepare(method="POST", url=url, headers=FORM, data=urlencode(form))
        response = (
            http_session()
            .get_adapter(url)
            .send(
                request,
                timeout=(
                    config["CAPTCHA_CONNECT_TIMEOUT"],
                    config["CAPTCHA_READ_TIMEOUT"],
                ),
                proxies=_proxies_for(url),
            )
        )
        result.latency_ms = round((time.monotonic() - started) * 1000)
        if response.status_code != 200:
            result.detail = f"HTTP {response.status_code}"
            return result
        # JSON is UTF-8 (RFC 8259): no charset guessing, which requests would do.
        answer = json.loads(response.content)
        if not isinstance(answer, dict) or not isinstance(answer.get("success"), bool):
            raise ValueError("not a siteverify answer")
    except requests.Timeout:
        result.latency_ms = round((time.monotonic() - started) * 1000)
        result.detail = "timed out"
        return result
    except requests.RequestException as error:
        result.latency_ms = round((time.monotonic() - started) * 1000)
        # With retries mounted, requests reports a read timeout as a
        # ConnectionError wrapping urllib3's error: look inside.
        reason = getattr(error.args[0] if error.args else None, "reason", None)
        if isinstance(reason, urllib3.exceptions.NewConnectionError):
            result.detail = f"unreachable ({type(reason).__name__})"
        elif isinstance(reason, TimeoutError | urllib3.exceptions.TimeoutError):
            result.detail = "timed out"
        else:
            result.detail = f"unreachable ({type(error).__name__})"
        return result
    except ValueError:
        result.detail = "the answer was not siteverify JSON"
        return result
    return _judge(site, spec, answer, result)


def _judge(site: Site, spec: ProviderSpec, answer: dict, result: CaptchaResult):
    codes = answer.get("error-codes") or []
    result.error_codes = [str(c) for c in codes] if isinstance(codes, list) else []
    result.success = answer["success"]
    result.hostname = _text(answer.get("hostname"))
    result.action = _text(answer.get("action"))
    score = answer.get("score")
    if isinstance(score, int | float) and not isinstance(score, bool):
        result.score = float(score)
    reason = (answer.get("tokenProperties") or {}).get("invalidReason")

    codes = set(result.error_codes)
    if codes & MISCONFIGURED_CODES:
        result.outcome = Outcome.MISCONFIGURED
        result.detail = "the provider refused our secret or site key"
        return result
    if not result.success:
        if codes & EXPIRED_CODES or reason in EXPIRED_REASONS:
            result.outcome = Outcome.EXPIRED
        elif codes & UNAVAILABLE_CODES:
            result.outcome = Outcome.UNAVAILABLE
            result.detail = "the provider reported an internal error"
        else:
            result.outcome = Outcome.INVALID
            result.detail = "the provider rejected the token"
        return result

    hostnames = _hostnames(site)
    if hostnames and result.hostname not in hostnames:
        # An answer that names no hostname cannot show the token was solved on
        # the site's pages.
        result.outcome = Outcome.INVALID
        result.detail = (
            f"token issued for another hostname ({result.hostname})"
            if result.hostname
            else "the answer named no hostname"
        )
        return result
    if spec.checks_action and result.action != ACTION:
        result.outcome = Outcome.INVALID
        result.detail = f"token issued for another action ({result.action})"
        return result
    if spec.checks_score:
        if result.score is None:
            result.outcome = Outcome.UNAVAILABLE
            result.detail = "the answer had no score"
            return result
        if result.score < site.captcha_score_threshold:
            result.outcome = Outcome.LOW_SCORE
            return result
    result.outcome = Outcome.OK
    return result


def _text(value) -> str | None:
    return value[:255] if isinstance(value, str) else None
