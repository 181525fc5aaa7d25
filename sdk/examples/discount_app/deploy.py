"""Publish manifest.yaml as a new version of the app and upload the plugin modules it declares.

::

    SOUK_API_URL=http://127.0.0.1:5000 SOUK_CLIENT_ID=… SOUK_CLIENT_SECRET=… python deploy.py

Uses the app token (OAuth client credentials), so it needs the confidential client's secret. Build
the plugin first if you changed its source (``./build_plugin.sh``); the built module is committed.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import httpx

from souk_sdk import Client, OAuthClient, SoukError
from souk_sdk.api import AppVersion

HERE = Path(__file__).resolve().parent


def deploy(
    api_url: str, client_id: str, client_secret: str, *, directory: Path = HERE, http: httpx.Client | None = None
) -> AppVersion:
    """Publish ``directory``'s manifest.yaml (if changed) and upload each module its version lacks; return it."""
    with OAuthClient(api_url, client_id, client_secret, http=http) as oauth:
        app_token = oauth.client_credentials()
    with Client(api_url, app_token.access_token, http=http) as souk:
        version = souk.app.create_version({"manifest": (directory / "manifest.yaml").read_text(encoding="utf-8")})
        # An unchanged manifest gives back the current version: deploying twice is harmless.
        print(f"version {version['number']} ({version['id']}) has this manifest")
        for module in version.get("missing_modules", []):
            wasm = (directory / module).read_bytes()
            souk.app.upload_module(
                version["id"], {"module": module, "module_base64": base64.b64encode(wasm).decode("ascii")}
            )
            print(f"uploaded {module} ({len(wasm):,} bytes)")
        return souk.app.get_version(version["id"])


def main() -> int:
    try:
        client_id, client_secret = os.environ["SOUK_CLIENT_ID"], os.environ["SOUK_CLIENT_SECRET"]
    except KeyError as missing:
        print(f"error: set {missing.args[0]} (the developer console shows the client id and secret)", file=sys.stderr)
        return 2
    try:
        version = deploy(os.environ.get("SOUK_API_URL", "http://127.0.0.1:5000"), client_id, client_secret)
    except SoukError as error:
        print(f"error: Souk refused: {error}", file=sys.stderr)
        for field, messages in error.errors.items():  # e.g. a manifest problem, with its line
            print(f"  {field}: {'; '.join(map(str, messages))}", file=sys.stderr)
        return 1
    if version.get("missing_modules"):
        print(f"error: still missing: {', '.join(version['missing_modules'])}", file=sys.stderr)
        return 1
    print(f"version {version['number']} is ready: every declared module is uploaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
