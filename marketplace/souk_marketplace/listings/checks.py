"""The automated checks of a listing submission: plain Python, given what they need (no Flask, no DB).

Each check yields ``CheckResult``s (pass/fail and a message a developer can act on):

- ``manifest``: the version's manifest is still valid and declares at least one pricing plan;
- ``plugin`` (one per plugin): its module was uploaded for this version, passes ``souk_sandbox.validate``,
  declares tests, and each test input (a valid input of the point) runs within production limits with
  a schema-valid output, equal to ``expect`` when given;
- ``redirect_uris``: each is valid, and not a loopback address unless loopback is allowed (development);
- ``webhook`` (one per endpoint of the manifest): a signed ``webhook.test`` message gets a 2xx;
- ``scopes``: every requested scope has a justification.

Any failed check keeps the submission out of the review queue.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from souk_platform.apps.errors import InvalidManifest
from souk_platform.apps.manifest import LOOPBACK_HOSTS, check_redirect_uri, parse_manifest
from souk_platform.core.ids import new_id
from souk_platform.core.wording import N_
from souk_platform.extensions.services import EXTENSION_POINTS
from souk_platform.webhooks.signing import webhook_headers
from souk_platform.webhooks.ssrf import BlockedDestination
from souk_sandbox import InvalidModule, Limits, Plugin, validate

TEST_EVENT_TYPE = "webhook.test"


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str  # manifest | plugin | redirect_uris | webhook | scopes
    subject: str  # what was checked (a plugin's point and module, a webhook URL); "" for the whole
    passed: bool
    message: str  # in English, for the API
    # The message's English template and its values: pages show it translated (``wording % values``
    # is ``message``). Stored with the result; the API schema leaves them out.
    wording: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "subject": self.subject,
            "passed": self.passed,
            "message": self.message,
            "wording": self.wording,
            "values": self.values,
        }


def _result(check: str, subject: str, passed: bool, wording: str, **values: Any) -> CheckResult:
    return CheckResult(check, subject, passed, wording % values, wording, values)


@dataclass(frozen=True, slots=True)
class UploadedModule:
    """A plugin of the manifest and the module bytes stored for it (None: never uploaded)."""

    point: str
    module_path: str
    wasm: bytes | None
    tests: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class CheckPlan:
    """Everything the checks read, taken from the database before any network call."""

    app_id: str
    submission_id: str
    manifest: dict[str, Any]
    modules: list[UploadedModule]
    scope_justifications: dict[str, str]
    webhook_secret: str


@dataclass(frozen=True, slots=True)
class CheckContext:
    """The outside world of the checks: the sandbox, the SSRF-guarded client, the time."""

    load_module: Callable[[bytes], Plugin]
    http: httpx.Client
    allow_loopback: bool
    now: dt.datetime
    limits: Limits = field(default_factory=Limits)
    # Souk's own public origin (scheme://host:port): merchants' browsers reach it by definition, so a
    # redirect URI there is never "the developer's computer" (the demo's own apps land on Souk's pages).
    platform_origin: str | None = None


def run_checks(plan: CheckPlan, context: CheckContext) -> list[CheckResult]:
    """Run every check of ``plan``; never raises for anything the app, its modules or endpoints do."""
    manifest = plan.manifest
    return [
        check_manifest(manifest),
        *(check_plugin(module, context) for module in plan.modules),
        check_redirect_uris(
            list(manifest.get("redirect_uris") or []),
            allow_loopback=context.allow_loopback,
            platform_origin=context.platform_origin,
        ),
        *(check_webhook(uri, plan, context) for uri in _webhook_uris(manifest)),
        check_scopes(list(manifest.get("scopes") or []), plan.scope_justifications),
    ]


def passed(results: list[CheckResult]) -> bool:
    return all(result.passed for result in results)


def check_manifest(manifest: dict[str, Any]) -> CheckResult:
    try:
        parsed = parse_manifest(json.dumps(manifest, ensure_ascii=False))
    except InvalidManifest as exc:
        return _result("manifest", "", False, N_("The manifest is not valid: %(problem)s"), problem=exc.detail)
    if not parsed["pricing"]:
        return _result(
            "manifest", "", False, N_("The manifest declares no pricing plan; add at least one (a free plan will do).")
        )
    return _result(
        "manifest",
        "",
        True,
        N_(
            "The manifest is valid: %(scopes)s scope(s), %(webhooks)s webhook(s), %(plugins)s plugin(s), "
            "%(plans)s plan(s)."
        ),
        scopes=len(parsed["scopes"]),
        webhooks=len(parsed["webhooks"]),
        plugins=len(parsed["plugins"]),
        plans=len(parsed["pricing"]),
    )


def check_plugin(module: UploadedModule, context: CheckContext) -> CheckResult:
    subject = f"{module.point} {module.module_path}"
    if module.wasm is None:
        return _result(
            "plugin",
            subject,
            False,
            N_("No module was uploaded for %(path)s in this version (POST /api/v1/app/versions/{version_id}/modules)."),
            path=module.module_path,
        )
    try:
        validate(module.wasm, limits=context.limits)
        loaded = context.load_module(module.wasm)
    except InvalidModule as exc:
        details = f" ({', '.join(exc.details)})" if exc.details else ""
        return _result(
            "plugin",
            subject,
            False,
            N_("The module is not a valid ABI v1 module: %(problem)s"),
            problem=exc.message + details,
        )
    if not module.tests:
        return _result(
            "plugin",
            subject,
            False,
            N_("The plugin declares no tests: add at least one under `tests` in the manifest so it can be run here."),
        )
    point = EXTENSION_POINTS.get(module.point)
    if point is None:
        return _result("plugin", subject, False, N_("%(point)r is not an extension point."), point=module.point)
    failures: list[str] = []
    fuel, elapsed_us = 0, 0
    for test in module.tests:
        document = {"config": {}, **test["input"]}
        problems = point.input_problems(document)
        if problems:
            failures.append(f"test {test['name']!r}: the input is not a valid {module.point} input ({problems[0]})")
            continue
        result = loaded.invoke(document, limits=context.limits, output_validator=point.output_problems)
        fuel, elapsed_us = max(fuel, result.fuel_consumed), max(elapsed_us, result.elapsed_us)
        if not result.ok:
            failures.append(f"test {test['name']!r}: {result.outcome.value} ({result.message})")
        elif "expect" in test and result.output != test["expect"]:
            got = json.dumps(result.output, ensure_ascii=False)[:300]
            failures.append(f"test {test['name']!r}: the output {got} is not the expected one")
    if failures:
        return CheckResult("plugin", subject, False, "; ".join(failures)[:2000])  # the tests' own words
    return _result(
        "plugin",
        subject,
        True,
        N_(
            "Valid ABI v1 module (%(size)s KiB); %(count)s of %(count)s test(s) passed within production limits "
            "(at most %(fuel)s fuel, %(ms)s ms)."
        ),
        size=f"{len(module.wasm) / 1024:.1f}",
        count=len(module.tests),
        fuel=f"{fuel:,}",
        ms=f"{elapsed_us / 1000:.2f}",
    )


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased, as browsers compare origins."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_redirect_uris(uris: list[str], *, allow_loopback: bool, platform_origin: str | None = None) -> CheckResult:
    if not uris:
        return _result("redirect_uris", "", False, N_("The version declares no redirect URI."))
    problems = []
    for uri in uris:
        try:
            check_redirect_uri(uri)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        on_souk = platform_origin is not None and origin_of(uri) == platform_origin
        if not allow_loopback and not on_souk and urlsplit(uri).hostname in LOOPBACK_HOSTS:
            problems.append(f"{uri!r} points at this computer (localhost); merchants need a public https URL")
    if problems:
        return CheckResult("redirect_uris", "", False, "; ".join(problems))
    return _result("redirect_uris", "", True, N_("%(count)s valid redirect URI(s)."), count=len(uris))


def _webhook_uris(manifest: dict[str, Any]) -> list[str]:
    hooks = manifest.get("webhooks") or []
    return list(dict.fromkeys(hook["uri"] for hook in hooks if isinstance(hook, dict) and "uri" in hook))


def webhook_test_body(plan: CheckPlan, now: dt.datetime) -> bytes:
    """The ``webhook.test`` body the checks send (``shop_id`` is null: no shop is involved)."""
    message = {
        "type": TEST_EVENT_TYPE,
        "created_at": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "shop_id": None,
        "data": {
            "app_id": plan.app_id,
            "listing_submission_id": plan.submission_id,
            "message": "A test message from Souk's listing checks.",
            "version": 1,
        },
    }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def check_webhook(uri: str, plan: CheckPlan, context: CheckContext) -> CheckResult:
    """POST a signed ``webhook.test`` through the SSRF-guarded client; a 2xx passes (redirects are not followed)."""
    body = webhook_test_body(plan, context.now)
    headers = {
        "content-type": "application/json",
        **webhook_headers([plan.webhook_secret], msg_id=new_id("msg"), at=context.now, body=body),
    }
    started = time.perf_counter()
    try:
        # Streamed and never read: only the status matters, and an endpoint may answer with anything.
        with context.http.stream("POST", uri, content=body, headers=headers) as response:
            status, location = response.status_code, response.headers.get("location")
    except BlockedDestination as exc:
        return _result("webhook", uri, False, N_("Refused by the SSRF guard: %(problem)s"), problem=str(exc))
    except httpx.TimeoutException:
        return _result("webhook", uri, False, N_("Not reachable: no answer within the timeout."))
    except httpx.HTTPError as exc:
        return CheckResult("webhook", uri, False, f"Not reachable: {type(exc).__name__}: {exc}"[:500])
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    if 200 <= status < 300:
        return _result("webhook", uri, True, N_("Answered %(status)s in %(ms)s ms."), status=status, ms=elapsed_ms)
    if location and 300 <= status < 400:
        return _result(
            "webhook",
            uri,
            False,
            N_("Answered %(status)s; a 2xx is needed (the redirect to %(location)s is not followed)."),
            status=status,
            location=location,
        )
    return _result("webhook", uri, False, N_("Answered %(status)s; a 2xx is needed."), status=status)


def check_scopes(scopes: list[str], justifications: dict[str, str]) -> CheckResult:
    missing = [scope for scope in scopes if not str(justifications.get(scope, "")).strip()]
    if missing:
        return _result("scopes", "", False, N_("Say why the app needs: %(scopes)s."), scopes=", ".join(missing))
    return _result("scopes", "", True, N_("All %(count)s requested scope(s) are justified."), count=len(scopes))
