"""For the plugin tests: small ABI v1 modules in WAT (constant outputs, a trap, a module with imports), the
sample tiered discount, and a developer's app that ships it."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import wasmtime

from factories import UserFactory
from souk_platform.apps.services import register_app
from souk_platform.oauth.services import issue_app_token


def constant_plugin(output: Any) -> bytes:
    """An ABI v1 module that ignores its input and returns ``output`` as JSON."""
    encoded = json.dumps(output, separators=(",", ":")).encode()
    escaped = "".join(f"\\{byte:02x}" for byte in encoded)
    wat = f"""
    (module
      (memory (export "memory") 1)
      (data (i32.const 16) "{escaped}")
      (func (export "alloc") (param $n i32) (result i32) (i32.const 8192))
      (func (export "run") (param $p i32) (param $n i32) (result i64)
        (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const {len(encoded)}))))
    """
    return bytes(wasmtime.wat2wasm(wat))


TRAPPING = """
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param $n i32) (result i32) (i32.const 8192))
  (func (export "run") (param $p i32) (param $n i32) (result i64) unreachable))
"""

WITH_IMPORT = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "alloc") (param $n i32) (result i32) (i32.const 8192))
  (func (export "run") (param $p i32) (param $n i32) (result i64) (i64.const 0)))
"""


FIVE_OFF = constant_plugin({"discounts": [{"label": "Plugin 5 off", "amount": 500}]})
TEN_PERCENT = constant_plugin({"discounts": [{"label": "Plugin 10%", "percent": 10}]})
HUGE_OFF = constant_plugin({"discounts": [{"label": "Everything free", "amount": 10**9}]})
DENY = constant_plugin({"allow": False, "reason": "blocked by the test guard"})
TRAP = bytes(wasmtime.wat2wasm(TRAPPING))


SAMPLES = Path(__file__).resolve().parents[1] / "sample_plugins"
TIERED = (SAMPLES / "tiered_discount" / "plugin.wasm").read_bytes()
TIERED_SCHEMA = json.loads((SAMPLES / "tiered_discount" / "config.schema.json").read_text())
MODULE = "plugins/tiered.wasm"


def manifest(name: str = "Tier Deals", plugins: list[dict[str, Any]] | None = None) -> str:
    default = [{"point": "cart.discounts", "module": MODULE, "config_schema": TIERED_SCHEMA}]
    return json.dumps(
        {
            "name": name,
            "redirect_uris": ["https://deals.example.com/callback"],
            "scopes": ["read_orders"],
            "plugins": default if plugins is None else plugins,
        }
    )


def b64(module: bytes) -> str:
    return base64.b64encode(module).decode()


class Developer:
    """An app registered with ``manifest()`` and a client-credentials token for it."""

    def __init__(self, session: Any, clock: Any, name: str = "Tier Deals", user: Any = None) -> None:
        user = user or UserFactory(is_developer=True)
        app, version, _ = register_app(session, developer=user, manifest_text=manifest(name))
        self.app_id, self.version_id = app.id, version.id  # requests end the session: keep the ids only
        _, token = issue_app_token(session, app_id=app.id, now=clock.now())
        session.commit()
        self.headers = {"Authorization": f"Bearer {token}"}

    def upload(self, client: Any, version_id: str | None = None, module: bytes = TIERED, path: str = MODULE) -> Any:
        """``POST /api/v1/app/versions/{id}/modules`` (default: the first version, the tiered discount)."""
        return client.post(
            f"/api/v1/app/versions/{version_id or self.version_id}/modules",
            json={"module": path, "module_base64": b64(module)},
            headers=self.headers,
        )
