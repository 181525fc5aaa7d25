"""The `souk-dev` command: log in as an app, scaffold it, deploy and submit it, and work with its webhooks.

Exit codes: 0 success; 1 the server refused or a step failed (a rejected manifest, a failed build,
a refused submission); 2 the command cannot run (not logged in, a missing file, bad arguments, no
server at the URL). With ``--json`` the result is one JSON document on stdout (``webhooks listen``:
one JSON line per event) and progress goes to stderr.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import threading
import time
import webbrowser
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import httpx

from souk_sdk._dev_templates import LISTING_FILE, MANIFEST_FILE, app_files
from souk_sdk._i18n import _
from souk_sdk._project_templates import LANGUAGES, WASM_FILE
from souk_sdk._toolchain import build_project
from souk_sdk.api import SubmissionCreate
from souk_sdk.client import Client
from souk_sdk.errors import EXIT_FAILED, EXIT_USAGE, DevKitError
from souk_sdk.oauth import OAuthClient, OAuthError, ServerMetadata, Token
from souk_sdk.problems import SoukError, Unauthorized

__all__ = ["credentials_path", "main"]

DEFAULT_API_URL = "http://127.0.0.1:5000"
LISTEN_WAIT_SECONDS = 25
_TOKEN_LEEWAY_SECONDS = 60.0
_FORWARD_TIMEOUT_SECONDS = 15.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run `souk-dev` with `argv` (default: the process arguments); return the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the problem
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    out = _Output(json_mode=getattr(args, "json", False))
    try:
        result: int = args.handler(args, out)
        return result
    except DevKitError as error:
        print(_("error: {message}", message=error.message), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        out.say(_("Stopped."))
        return 0
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, without a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def credentials_path() -> Path:
    """Where `login` keeps credentials: ``$XDG_CONFIG_HOME/souk/credentials.json`` (else ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "souk" / "credentials.json"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=_("print results as JSON"))
    common.add_argument(
        "--api-url",
        default=argparse.SUPPRESS,
        help=_(
            "the Souk site (default: $SOUK_API_URL, else the one you logged in to, else {default})",
            default=DEFAULT_API_URL,
        ),
    )
    parser = argparse.ArgumentParser(
        prog="souk-dev",
        parents=[common],
        description=_("Develop a Souk app: log in, scaffold, deploy, submit for review, and test webhooks."),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser(
        "login",
        parents=[common],
        help=_("log in as an app: approve in the browser (--client-id), or give its secret or a token"),
    )
    login.add_argument("--client-id", help=_("the app's client id (developer console); alone: approve in the browser"))
    login.add_argument(
        "--client-secret",
        help=_("the app's client secret (shown once when created or rotated), instead of the browser"),
    )
    login.add_argument("--token", help=_("an app token (souk_apt_…) to use as is, instead of the client secret"))
    login.add_argument(
        "--no-browser", action="store_true", help=_("with --client-id alone: only print the page to open")
    )
    login.set_defaults(handler=_login)
    logout = commands.add_parser("logout", parents=[common], help=_("forget the stored credentials"))
    logout.set_defaults(handler=_logout)
    whoami = commands.add_parser("whoami", parents=[common], help=_("show the app the credentials belong to"))
    whoami.set_defaults(handler=_whoami)

    app = commands.add_parser("app", help=_("scaffold, deploy and inspect the app")).add_subparsers(
        dest="app_command", required=True, metavar="COMMAND"
    )
    init = app.add_parser("init", parents=[common], help=_("create an app: manifest, webhook handler, plugin"))
    init.add_argument("directory", help=_("the folder to create"))
    init.add_argument("--name", help=_("the app's name (default: the folder's name)"))
    init.set_defaults(handler=_app_init)
    deploy = app.add_parser("deploy", parents=[common], help=_("publish the manifest as a version, upload plugins"))
    deploy.add_argument("directory", nargs="?", default=".", help=_("the app folder (default: the current one)"))
    deploy.add_argument(
        "--submit", action="store_true", help=_("then submit the version for review ({listing})", listing=LISTING_FILE)
    )
    deploy.add_argument(
        "--no-build", action="store_true", help=_("never build plugins; upload the .wasm files as they are")
    )
    deploy.set_defaults(handler=_app_deploy)
    status = app.add_parser("status", parents=[common], help=_("the app, its version, listing and last review"))
    status.set_defaults(handler=_app_status)

    hooks = commands.add_parser("webhooks", help=_("test the app's webhooks")).add_subparsers(
        dest="webhooks_command", required=True, metavar="COMMAND"
    )
    secret = hooks.add_parser(
        "secret", parents=[common], help=_("print the secret the manifest's endpoints are signed with")
    )
    secret.add_argument(
        "--rotate", action="store_true", help=_("issue a new one first (the current one signs too for 24 hours)")
    )
    secret.set_defaults(handler=_webhooks_secret)
    trigger = hooks.add_parser("trigger", parents=[common], help=_("send a test event to the app's endpoints"))
    trigger.add_argument("type", help=_("an event type, e.g. order.paid"))
    trigger.set_defaults(handler=_webhooks_trigger)
    listen = hooks.add_parser("listen", parents=[common], help=_("forward the app's deliveries to a local URL"))
    listen.add_argument("--forward-to", required=True, help=_("e.g. http://localhost:8000/webhooks/souk"))
    listen.add_argument("--max-events", type=int, help=_("stop after forwarding this many events"))
    listen.add_argument("--timeout", type=float, help=_("stop after this many seconds"))
    listen.set_defaults(handler=_webhooks_listen)
    return parser


class _Output:
    """Progress for people (stderr in JSON mode) and the result (JSON on stdout in JSON mode)."""

    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode

    def say(self, text: str) -> None:
        print(text, file=sys.stderr if self.json_mode else sys.stdout, flush=True)

    def result(self, document: Any) -> None:
        if self.json_mode:
            print(json.dumps(document, ensure_ascii=False, default=str), flush=True)


# --- credentials ------------------------------------------------------------------------------------------


def _load_credentials() -> dict[str, Any]:
    path = credentials_path()
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise DevKitError(
            _("Cannot read {path}: {error}. Run `souk-dev login` again.", path=path, error=error)
        ) from None
    return stored if isinstance(stored, dict) else {}


def _save_credentials(credentials: dict[str, Any]) -> Path:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    # Created 0600 before anything is written, so the secret is never readable by others.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(credentials, file, indent=2)
    path.chmod(0o600)
    return path


def _api_url(args: argparse.Namespace, credentials: dict[str, Any]) -> str:
    given = getattr(args, "api_url", None) or os.environ.get("SOUK_API_URL") or credentials.get("api_url")
    return str(given or DEFAULT_API_URL).rstrip("/")


class _AppToken:
    """A token source for ``Client``: the pasted token, or a client-credentials token renewed before it expires."""

    def __init__(self, api_url: str, credentials: dict[str, Any]) -> None:
        self._api_url = api_url
        self._credentials = credentials
        self._token: Token | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        pasted = self._credentials.get("token")
        if pasted:
            expires_at = self._credentials.get("token_expires_at")
            if isinstance(expires_at, int | float) and expires_at <= time.time():
                raise DevKitError(
                    _(
                        "Your souk-dev login has expired: run `souk-dev login --client-id {client_id}` again.",
                        client_id=self._credentials.get("client_id", "ID"),
                    ),
                    EXIT_FAILED,
                )
            return str(pasted)
        with self._lock:
            if self._token is None or self._token.expires_within(_TOKEN_LEEWAY_SECONDS, now=time.time()):
                client_id, secret = str(self._credentials["client_id"]), str(self._credentials["client_secret"])
                with OAuthClient(self._api_url, client_id, secret, metadata=_endpoints(self._api_url)) as oauth:
                    try:
                        self._token = oauth.client_credentials()
                    except SoukError as error:
                        raise DevKitError(
                            _(
                                "{api_url} refused the client credentials ({status}): {reason}. "
                                "Check them, or run `souk-dev login` again.",
                                api_url=self._api_url,
                                status=error.status,
                                reason=error.detail or error.title,
                            ),
                            EXIT_FAILED,
                        ) from None
            return self._token.access_token


@contextmanager
def _client(args: argparse.Namespace, *, timeout: float = 30.0) -> Iterator[tuple[Client, str]]:
    """An API client with the stored credentials; every failure becomes a clear ``DevKitError``."""
    credentials = _load_credentials()
    if not credentials.get("token") and not credentials.get("client_id"):
        raise DevKitError(
            _("Not logged in: run `souk-dev login --client-id ID` first (you approve it in the browser).")
        )
    api_url = _api_url(args, credentials)
    with (
        _api_errors(api_url),
        Client(api_url, _AppToken(api_url, credentials), max_retries=2, timeout=timeout) as client,
    ):
        yield client, api_url


@contextmanager
def _api_errors(api_url: str) -> Iterator[None]:
    try:
        yield
    except Unauthorized:
        raise DevKitError(
            _(
                "{api_url} refused the credentials (401): the token is unknown, expired or revoked. "
                "Run `souk-dev login` again.",
                api_url=api_url,
            ),
            EXIT_FAILED,
        ) from None
    except SoukError as error:
        raise DevKitError(_problem_text(error), EXIT_FAILED) from None
    except httpx.HTTPError as error:
        raise DevKitError(
            _(
                "Cannot reach the Souk API at {api_url}: {error}. "
                "Check --api-url (or SOUK_API_URL) and that the server is running.",
                api_url=api_url,
                error=error or type(error).__name__,
            )
        ) from None


def _problem_text(error: SoukError) -> str:
    """The problem's title and detail, then one line per invalid field."""
    text = f"{error.title or _('The request failed')} ({error.status})"
    if error.detail:
        text += f": {error.detail}"
    for field, messages in sorted(error.errors.items()):
        for message in messages if isinstance(messages, list) else [messages]:
            text += f"\n  - {field}: {message}"
    return text


# --- login, logout, whoami ---------------------------------------------------------------------------------


def _login(args: argparse.Namespace, out: _Output) -> int:
    if args.token and (args.client_id or args.client_secret):
        raise DevKitError(_("Pass either --token or --client-id (with or without --client-secret), not both."))
    api_url = _api_url(args, {})
    if args.token:
        credentials: dict[str, Any] = {"token": args.token}
    elif args.client_id and args.client_secret:
        credentials = {"client_id": args.client_id, "client_secret": args.client_secret}
    elif args.client_id:
        credentials = _device_login(api_url, args.client_id, out, open_browser=not args.no_browser)
    else:
        raise DevKitError(
            _(
                "Pass --client-id (the developer console shows it): you then approve the login in your browser. "
                "Or --client-id with --client-secret, or --token with an app token."
            )
        )
    credentials["api_url"] = api_url
    with _api_errors(api_url), Client(api_url, _AppToken(api_url, credentials), max_retries=1) as client:
        app = client.app.get()
    path = _save_credentials(credentials)
    out.say(
        _(
            "Logged in to {api_url} as {name} ({app_id}). Credentials saved in {path}.",
            api_url=api_url,
            name=app.get("name"),
            app_id=app.get("id"),
            path=path,
        )
    )
    out.result({"api_url": api_url, "app": app, "credentials": str(path)})
    return 0


def _device_login(api_url: str, client_id: str, out: _Output, *, open_browser: bool) -> dict[str, Any]:
    """RFC 8628: show the code, let the developer approve it in the browser, and wait for the app token."""
    with _api_errors(api_url), OAuthClient(api_url, client_id, metadata=_endpoints(api_url)) as oauth:
        try:
            started = oauth.device_authorization()
        except OAuthError as error:
            raise DevKitError(_oauth_error_text(api_url, error), EXIT_FAILED) from None
        page = started.verification_uri_complete or started.verification_uri
        out.say(_("To log in, open {page}", page=page))
        out.say(_("and check that the page shows the code {code}. Then approve.", code=started.user_code))
        if open_browser and sys.stdin.isatty() and not os.environ.get("CI") and webbrowser.open(page):
            out.say(_("(Opened in your browser.)"))
        minutes_said: list[int] = []

        def waiting(seconds_left: float) -> None:
            minutes = int(seconds_left // 60)
            if not minutes_said or minutes < minutes_said[-1]:
                minutes_said.append(minutes)
                out.say(
                    _(
                        "Waiting for your approval… ({minutes} min {seconds} s left)",
                        minutes=minutes,
                        seconds=int(seconds_left % 60),
                    )
                )

        try:
            token = oauth.wait_for_device_token(started, on_wait=waiting)
        except OAuthError as error:
            raise DevKitError(_oauth_error_text(api_url, error), EXIT_FAILED) from None
    return {
        "client_id": client_id,
        "token": token.access_token,
        "token_expires_at": token.expires_at,
        "login": "device",
    }


def _oauth_error_text(api_url: str, error: OAuthError) -> str:
    reasons = {
        "access_denied": _("The login was denied in the browser."),
        "expired_token": _("The code expired before it was approved: run `souk-dev login` again."),
        "invalid_client": _(
            "{api_url} knows no app with this client id: copy it from the developer console.", api_url=api_url
        ),
    }
    return reasons.get(error.error) or _(
        "{api_url} refused the login: {reason}.", api_url=api_url, reason=error.error_description or error.error
    )


def _endpoints(api_url: str) -> ServerMetadata:
    """The OAuth endpoints of the site the user named, not the metadata's: a development server's public
    URL setting often points elsewhere."""
    return ServerMetadata(
        issuer=api_url,
        authorization_endpoint=api_url + "/oauth/authorize",
        token_endpoint=api_url + "/oauth/token",
        device_authorization_endpoint=api_url + "/oauth/device_authorization",
    )


def _logout(args: argparse.Namespace, out: _Output) -> int:
    path = credentials_path()
    credentials = _load_credentials()
    if credentials.get("login") == "device" and credentials.get("token"):
        api_url = _api_url(args, credentials)
        try:  # sign the login out on the server too; a dead or unreachable server does not stop the logout
            with Client(api_url, str(credentials["token"]), max_retries=0) as client:
                client.app.revoke_token()
            out.say(_("Signed the login out at {api_url}.", api_url=api_url))
        except (SoukError, httpx.HTTPError):
            out.say(_("Could not sign the login out at {api_url}; it ends by itself when it expires.", api_url=api_url))
    existed = path.exists()
    path.unlink(missing_ok=True)
    out.say(_("Removed {path}.", path=path) if existed else _("Not logged in; nothing to remove."))
    out.result({"logged_out": existed})
    return 0


def _whoami(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as (client, api_url):
        app = client.app.get()
    version = app.get("current_version") or {}
    out.say(_("{name} ({app_id}) at {api_url}", name=app.get("name"), app_id=app.get("id"), api_url=api_url))
    out.say(
        _(
            "  client id     {client_id} ({client_type})",
            client_id=app.get("client_id"),
            client_type=app.get("client_type"),
        )
    )
    out.say(_("  status        {status}", status=app.get("status")))
    out.say(_("  version       {number}", number=version.get("number", "-")))
    out.say(_("  installations {count}", count=app.get("installation_count", 0)))
    out.result(app)
    return 0


# --- app init, deploy, status ------------------------------------------------------------------------------


def _app_init(args: argparse.Namespace, out: _Output) -> int:
    directory = Path(args.directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise DevKitError(
            _("{directory} already exists and is not an empty folder; choose another.", directory=directory)
        )
    name = (args.name or directory.resolve().name).strip()
    if not name or len(name) > 100:
        raise DevKitError(_("The app's name must be 1 to 100 characters: pass --name."))
    files = app_files(name)
    for relative, contents in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(contents)
    out.say(_("Created the app {name!r} in {directory}/:", name=name, directory=directory))
    for relative in sorted(files):
        out.say(f"  {directory / relative}")
    out.say(_("Next (docs/tutorial.md walks through each):"))
    out.say(_("  register the app in the developer console, then `souk-dev login --client-id … --client-secret …`"))
    out.say('  export SOUK_WEBHOOK_SECRET="$(souk-dev webhooks secret)"')
    out.say(_("  cd {directory} && flask --app app run --port 8000      # in another terminal", directory=directory))
    out.say(f"  souk-dev app deploy {directory} --submit")
    out.say(
        _(
            "  before listing for real: public https URLs in {manifest}, texts in {listing}",
            manifest=directory / MANIFEST_FILE,
            listing=LISTING_FILE,
        )
    )
    out.result({"directory": str(directory), "files": sorted(files)})
    return 0


def _read_manifest(directory: Path) -> str:
    for file_name in (MANIFEST_FILE, "manifest.yml", "manifest.json"):
        path = directory / file_name
        if path.is_file():
            try:
                return path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise DevKitError(_("Cannot read {path}: {error}.", path=path, error=error)) from None
    raise DevKitError(
        _(
            "No {manifest} in {directory}: is this an app folder? (`souk-dev app init` makes one.)",
            manifest=MANIFEST_FILE,
            directory=directory,
        )
    )


def _app_deploy(args: argparse.Namespace, out: _Output) -> int:
    directory = Path(args.directory)
    if not directory.is_dir():
        raise DevKitError(_("{directory} is not a folder.", directory=directory))
    manifest = _read_manifest(directory)
    listing = _read_listing(directory) if args.submit else None  # refuse a bad listing before changing anything
    with _client(args) as (client, api_url):
        out.say(_("Publishing {manifest} to {api_url} …", manifest=MANIFEST_FILE, api_url=api_url))
        version = client.app.create_version({"manifest": manifest})
        out.say(_("  version {number} ({version_id})", number=version["number"], version_id=version["id"]))
        uploaded = []
        for module_path in version.get("missing_modules", []):
            wasm = _module_ready(directory, module_path, build=not args.no_build, out=out)
            out.say(_("Uploading {module} ({size:,} bytes) …", module=module_path, size=wasm.stat().st_size))
            plugin = client.app.upload_module(
                version["id"],
                {"module": module_path, "module_base64": base64.b64encode(wasm.read_bytes()).decode()},
            )
            out.say(
                _(
                    "  stored as {plugin_id} (sha256 {sha256}…)",
                    plugin_id=plugin.get("id"),
                    sha256=str(plugin.get("sha256", ""))[:12],
                )
            )
            uploaded.append(module_path)
        if not version.get("missing_modules"):
            out.say(_("  every plugin module of this version is already uploaded"))
        result: dict[str, Any] = {"version": version, "uploaded_modules": uploaded}
        if listing is not None:
            out.say(_("Submitting the version for review …"))
            submission = client.app.submit_listing(cast(SubmissionCreate, {**listing, "app_version_id": version["id"]}))
            out.say(
                _(
                    "  submission {number} ({submission_id}): {status}",
                    number=submission.get("number"),
                    submission_id=submission.get("id"),
                    status=submission.get("status"),
                )
            )
            out.say(_("  `souk-dev app status` shows the automated checks and the reviewers' decision."))
            result["submission"] = submission
    out.result(result)
    return 0


def _module_ready(directory: Path, module_path: str, *, build: bool, out: _Output) -> Path:
    """The module file at ``module_path``, built first when its project's source is newer (or it is missing)."""
    wasm = directory / module_path
    project = wasm.parent
    sources = [project / source for source in LANGUAGES.values() if (project / source).is_file()]
    stale = sources and (not wasm.is_file() or max(s.stat().st_mtime for s in sources) > wasm.stat().st_mtime)
    if stale and wasm.name == WASM_FILE:
        if not build:
            raise DevKitError(
                _(
                    "{wasm} is missing or older than its source: run `souk-plugin build {project}` "
                    "(or deploy without --no-build).",
                    wasm=wasm,
                    project=project,
                )
            )
        out.say(_("Building {project} …", project=project))
        built, command = build_project(project)
        out.say("  $ " + " ".join(command))
        return built
    if not wasm.is_file():
        raise DevKitError(
            _(
                "The manifest declares {module} but {wasm} does not exist: build the plugin "
                "(`souk-plugin build {project}`) or fix the path.",
                module=module_path,
                wasm=wasm,
                project=project,
            )
        )
    return wasm


def _read_listing(directory: Path) -> dict[str, Any]:
    """``listing.json`` with its icon and screenshot file names replaced by their base64 contents."""
    path = directory / LISTING_FILE
    try:
        listing = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DevKitError(
            _(
                "--submit needs {path}: texts, category, icon, screenshots, support_contact, privacy_url, "
                "changelog and scope_justifications (`souk-dev app init` writes an example).",
                path=path,
            )
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DevKitError(_("{path} is not valid JSON: {error}.", path=path, error=error)) from None
    if not isinstance(listing, dict):
        raise DevKitError(_("{path} must hold a JSON object.", path=path))

    def image(value: Any, field: str) -> str:
        if not isinstance(value, str) or not value:
            raise DevKitError(
                _("{path}: {field} must be the name of an image file next to it.", path=path, field=field)
            )
        file = directory / value
        try:
            return base64.b64encode(file.read_bytes()).decode()
        except OSError as error:
            raise DevKitError(
                _(
                    "{path}: cannot read {field} {file}: {error}.",
                    path=path,
                    field=field,
                    file=file,
                    error=error.strerror,
                )
            ) from None

    if "icon" in listing:
        listing["icon"] = image(listing["icon"], "icon")
    if isinstance(listing.get("screenshots"), list):
        listing["screenshots"] = [image(s, f"screenshots[{i}]") for i, s in enumerate(listing["screenshots"])]
    return listing


def _app_status(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as (client, _api_url_unused):
        app = client.app.get()
        listing = client.app.get_listing()
    version = app.get("current_version") or {}
    out.say(_("{name} ({app_id}): {status}", name=app.get("name"), app_id=app.get("id"), status=app.get("status")))
    out.say(
        _(
            "  current version {number}, installed on {count} shop(s)",
            number=version.get("number", "-"),
            count=app.get("installation_count", 0),
        )
    )
    out.say(
        _("  listing         {state}", state=listing.get("state"))
        + (f" — {listing['public_url']}" if listing.get("public_url") else "")
    )
    submissions = listing.get("submissions") or []
    if submissions:
        last = submissions[0]
        out.say(
            _(
                "  last submission {number} (version {version}): {status}",
                number=last.get("number"),
                version=last.get("version_number"),
                status=last.get("status"),
            )
        )
        for check in last.get("checks") or []:
            mark = "ok  " if check.get("passed") else "FAIL"
            subject = f" {check['subject']}" if check.get("subject") else ""
            out.say(f"    {mark} {check.get('check')}{subject}: {check.get('message')}")
        if last.get("decision_reason"):
            out.say(_("    reason: {reason}", reason=last["decision_reason"]))
    else:
        out.say(_("  no submission yet: `souk-dev app deploy --submit`"))
    out.result({"app": app, "listing": listing})
    return 0


# --- webhooks ---------------------------------------------------------------------------------------------


def _webhooks_secret(args: argparse.Namespace, out: _Output) -> int:
    """The app's webhook secret(s) on stdout, alone, so `SOUK_WEBHOOK_SECRET=$(souk-dev webhooks secret)` works."""
    with _client(args) as (client, _api_url_unused):
        result = client.app.rotate_webhook_secret() if args.rotate else client.app.get_webhook_secret()
    secrets = [str(result["secret"])] + ([str(result["previous_secret"])] if result.get("previous_secret") else [])
    if out.json_mode:
        out.result(result)
        return 0
    print(" ".join(secrets), flush=True)
    if len(secrets) > 1:
        expires = result.get("previous_secret_expires_at")
        note = (
            _("New secret issued; the previous one (second) signs too until {expires}.", expires=expires)
            if args.rotate
            else _("During a rotation the second one signs too until {expires}.", expires=expires)
        )
        print(note, file=sys.stderr)
    print(_("Every delivery to your manifest's endpoints, in every shop, is signed with it."), file=sys.stderr)
    return 0


def _webhooks_trigger(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as (client, _api_url_unused):
        result = client.app.trigger_webhook({"type": args.type})
    deliveries = result.get("deliveries") or []
    out.say(_("Sent a test {type} to {count} endpoint(s):", type=args.type, count=len(deliveries)))
    for delivery in deliveries:
        out.say(
            _(
                "  {delivery_id} → {url} (shop {shop_id})",
                delivery_id=delivery.get("id"),
                url=delivery.get("url"),
                shop_id=delivery.get("shop_id"),
            )
        )
    out.result(result)
    return 0


def _webhooks_listen(args: argparse.Namespace, out: _Output) -> int:
    if args.max_events is not None and args.max_events < 1:
        raise DevKitError(_("--max-events must be 1 or more."))
    target = httpx.URL(args.forward_to)
    if target.scheme not in ("http", "https") or not target.host:
        raise DevKitError(
            _(
                "--forward-to must be an http(s) URL such as http://localhost:8000/webhooks, not {url!r}.",
                url=args.forward_to,
            )
        )
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    forwarded = 0
    with (
        _client(args, timeout=LISTEN_WAIT_SECONDS + 15) as (client, _api_url_unused),
        httpx.Client(timeout=_FORWARD_TIMEOUT_SECONDS, follow_redirects=False) as local,
    ):
        listen = client.app.open_listen_session()
        out.say(
            _(
                "Ready: forwarding the deliveries of app {app_id} ({count} endpoint(s)) to {url}. "
                "Press Ctrl-C to stop.",
                app_id=listen.get("app_id"),
                count=listen.get("endpoint_count", 0),
                url=args.forward_to,
            )
        )
        while deadline is None or time.monotonic() < deadline:
            wait = (
                LISTEN_WAIT_SECONDS
                if deadline is None
                else max(0, min(LISTEN_WAIT_SECONDS, int(deadline - time.monotonic())))
            )
            try:
                page = client.app.listen_events(listen["id"], wait=wait)
            except SoukError as error:
                if error.status != 410:
                    raise
                listen = client.app.open_listen_session()  # idle too long (a laptop asleep): start again
                continue
            for event in page.get("items") or []:
                status = _forward(local, args.forward_to, event)
                out.say(f"{event.get('created_at')}  {event.get('type'):<28} {event.get('id')}  → {status}")
                out.result({"id": event.get("id"), "type": event.get("type"), "local_status": status})
                forwarded += 1
                if args.max_events is not None and forwarded >= args.max_events:
                    return 0
    return 0


def _forward(local: httpx.Client, url: str, event: Mapping[str, Any]) -> str:
    """POST the delivery's exact body and its Standard Webhooks headers to the local URL; its status, or why not."""
    headers = {str(k): str(v) for k, v in (event.get("headers") or {}).items()}
    try:
        response = local.post(url, content=str(event.get("body", "")).encode(), headers=headers)
    except httpx.HTTPError as error:
        return f"not delivered: {error or type(error).__name__}"
    return str(response.status_code)


if __name__ == "__main__":
    raise SystemExit(main())
