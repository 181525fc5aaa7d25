"""The dev kit's messages for people, in English or in Simplified Chinese.

`_("Built {wasm}", wasm=path)` returns the message in the user's language, formatted with ``str.format``.
The language comes from ``SOUK_LANG`` when it is set, else from the first of ``LC_ALL``, ``LC_MESSAGES``
and ``LANG`` that is set: Simplified Chinese when the value starts with ``zh`` (``zh_CN.UTF-8``), English
otherwise. The environment is read on every call, never at import, so argparse help built later in the
process (and tests that change the environment) see the current setting.

English templates are the keys of `ZH_CN`; a template without a translation is shown in English. Templates
use named ``{placeholders}``; literal braces must be doubled. Machine output (JSON, secrets, ids) never
goes through `_`.
"""

from __future__ import annotations

import os
import unicodedata

__all__ = ["ZH_CN", "_", "language", "ljust", "rjust", "width"]

_LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def language() -> str:
    """``"zh"`` when the environment asks for Chinese, else ``"en"`` (an empty variable counts as unset)."""
    value = os.environ.get("SOUK_LANG") or next(
        (os.environ[name] for name in _LOCALE_VARIABLES if os.environ.get(name)), ""
    )
    return "zh" if value.strip().lower().startswith("zh") else "en"


def _(template: str, /, **values: object) -> str:
    """`template` in the user's language, formatted with `values`."""
    text = ZH_CN.get(template, template) if language() == "zh" else template
    return text.format(**values)


def width(text: str) -> int:
    """The columns `text` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def ljust(text: str, columns: int) -> str:
    """`text` padded on the right to `columns` terminal columns (``str.ljust`` counts characters)."""
    return text + " " * max(0, columns - width(text))


def rjust(text: str, columns: int) -> str:
    """`text` padded on the left to `columns` terminal columns."""
    return " " * max(0, columns - width(text)) + text


#: English template -> Simplified Chinese. Labels that start a column of values are padded so the values
#: still line up (a Chinese character takes two columns).
ZH_CN: dict[str, str] = {
    # --- shared by both commands ---
    "error: {message}": "错误：{message}",
    "Cannot reach the Souk API at {api_url}: {error}. "
    "Check --api-url (or SOUK_API_URL) and that the server is running.": (
        "无法连接 {api_url} 上的 Souk API：{error}。请检查 --api-url（或 SOUK_API_URL），并确认服务器正在运行。"
    ),
    # --- souk-dev: argparse ---
    "print results as JSON": "以 JSON 格式输出结果",
    "the Souk site (default: $SOUK_API_URL, else the one you logged in to, else {default})": (
        "Souk 站点地址（默认：$SOUK_API_URL；未设置时为登录时使用的站点；再不然为 {default}）"
    ),
    "Develop a Souk app: log in, scaffold, deploy, submit for review, and test webhooks.": (
        "开发 Souk 应用：登录、生成项目骨架、部署、提交审核，以及测试 webhook。"
    ),
    "log in as an app: approve in the browser (--client-id), or give its secret or a token": (
        "以应用身份登录：在浏览器中批准（--client-id），或提供应用的 client secret 或 token"
    ),
    "the app's client id (developer console); alone: approve in the browser": (
        "应用的 client id（见开发者控制台）；单独使用时：在浏览器中批准登录"
    ),
    "the app's client secret (shown once when created or rotated), instead of the browser": (
        "应用的 client secret（仅在创建或轮换时显示一次），用它代替浏览器登录"
    ),
    "an app token (souk_apt_…) to use as is, instead of the client secret": (
        "直接使用的应用 token（souk_apt_…），用它代替 client secret"
    ),
    "with --client-id alone: only print the page to open": (
        "仅指定 --client-id 时：只打印要打开的页面，不自动打开浏览器"
    ),
    "forget the stored credentials": "删除已保存的凭据",
    "show the app the credentials belong to": "显示凭据所属的应用",
    "scaffold, deploy and inspect the app": "生成、部署和查看应用",
    "create an app: manifest, webhook handler, plugin": "创建应用：manifest、webhook 处理程序和 plugin",
    "the folder to create": "要创建的文件夹",
    "the app's name (default: the folder's name)": "应用名称（默认：文件夹名）",
    "publish the manifest as a version, upload plugins": "将 manifest 发布为一个新版本，并上传 plugin",
    "the app folder (default: the current one)": "应用文件夹（默认：当前文件夹）",
    "then submit the version for review ({listing})": "随后提交该版本以供审核（{listing}）",
    "never build plugins; upload the .wasm files as they are": "不构建 plugin；按原样上传 .wasm 文件",
    "the app, its version, listing and last review": "查看应用及其版本、上架信息和最近一次审核",
    "test the app's webhooks": "测试应用的 webhook",
    "print the secret the manifest's endpoints are signed with": "打印为 manifest 中各端点签名所用的密钥",
    "issue a new one first (the current one signs too for 24 hours)": (
        "先签发一个新密钥（当前密钥在 24 小时内仍会参与签名）"
    ),
    "send a test event to the app's endpoints": "向应用的端点发送一个测试事件",
    "an event type, e.g. order.paid": "事件类型，例如 order.paid",
    "forward the app's deliveries to a local URL": "将发给应用的 webhook 投递转发到本地 URL",
    "e.g. http://localhost:8000/webhooks/souk": "例如 http://localhost:8000/webhooks/souk",
    "stop after forwarding this many events": "转发指定数量的事件后停止",
    "stop after this many seconds": "运行指定秒数后停止",
    # --- souk-dev: credentials and errors ---
    "Stopped.": "已停止。",
    "Cannot read {path}: {error}. Run `souk-dev login` again.": (
        "无法读取 {path}：{error}。请重新运行 `souk-dev login`。"
    ),
    "Your souk-dev login has expired: run `souk-dev login --client-id {client_id}` again.": (
        "souk-dev 登录已过期：请重新运行 `souk-dev login --client-id {client_id}`。"
    ),
    "{api_url} refused the client credentials ({status}): {reason}. Check them, or run `souk-dev login` again.": (
        "{api_url} 拒绝了 client 凭据（{status}）：{reason}。请检查凭据，或重新运行 `souk-dev login`。"
    ),
    "Not logged in: run `souk-dev login --client-id ID` first (you approve it in the browser).": (
        "尚未登录：请先运行 `souk-dev login --client-id ID`（在浏览器中批准即可）。"
    ),
    "{api_url} refused the credentials (401): the token is unknown, expired or revoked. Run `souk-dev login` again.": (
        "{api_url} 拒绝了凭据（401）：token 无效、已过期或已被吊销。请重新运行 `souk-dev login`。"
    ),
    "The request failed": "请求失败",
    # --- souk-dev: login, logout, whoami ---
    "Pass either --token or --client-id (with or without --client-secret), not both.": (
        "--token 和 --client-id（无论是否带 --client-secret）只能二选一，不能同时使用。"
    ),
    "Pass --client-id (the developer console shows it): you then approve the login in your browser. "
    "Or --client-id with --client-secret, or --token with an app token.": (
        "请传入 --client-id（可在开发者控制台中找到），然后在浏览器中批准登录。"
        "也可以同时传入 --client-id 和 --client-secret，或用 --token 传入应用 token。"
    ),
    "Logged in to {api_url} as {name} ({app_id}). Credentials saved in {path}.": (
        "已以 {name}（{app_id}）的身份登录 {api_url}。凭据已保存到 {path}。"
    ),
    "To log in, open {page}": "要登录，请打开 {page}",
    "and check that the page shows the code {code}. Then approve.": "并确认页面上显示的代码是 {code}，然后批准。",
    "(Opened in your browser.)": "（已在浏览器中打开。）",
    "Waiting for your approval… ({minutes} min {seconds} s left)": (
        "正在等待您的批准…（还剩 {minutes} 分 {seconds} 秒）"
    ),
    "The login was denied in the browser.": "登录已在浏览器中被拒绝。",
    "The code expired before it was approved: run `souk-dev login` again.": (
        "代码在获得批准前已过期：请重新运行 `souk-dev login`。"
    ),
    "{api_url} knows no app with this client id: copy it from the developer console.": (
        "{api_url} 上没有使用此 client id 的应用：请从开发者控制台复制 client id。"
    ),
    "{api_url} refused the login: {reason}.": "{api_url} 拒绝了登录：{reason}。",
    "Signed the login out at {api_url}.": "已在 {api_url} 注销本次登录。",
    "Could not sign the login out at {api_url}; it ends by itself when it expires.": (
        "无法在 {api_url} 注销本次登录；它会在过期后自动失效。"
    ),
    "Removed {path}.": "已删除 {path}。",
    "Not logged in; nothing to remove.": "尚未登录，没有需要删除的内容。",
    "{name} ({app_id}) at {api_url}": "{name}（{app_id}），位于 {api_url}",
    "  client id     {client_id} ({client_type})": "  client id     {client_id}（{client_type}）",
    "  status        {status}": "  状态          {status}",
    "  version       {number}": "  版本          {number}",
    "  installations {count}": "  安装数        {count}",
    # --- souk-dev: app init ---
    "{directory} already exists and is not an empty folder; choose another.": (
        "{directory} 已存在且不是空文件夹；请换一个文件夹。"
    ),
    "The app's name must be 1 to 100 characters: pass --name.": "应用名称必须为 1 到 100 个字符：请用 --name 指定。",
    "Created the app {name!r} in {directory}/:": "已在 {directory}/ 中创建应用 {name!r}：",
    "Next (docs/tutorial.md walks through each):": "后续步骤（docs/tutorial.md 中有每一步的详细说明）：",
    "  register the app in the developer console, then `souk-dev login --client-id … --client-secret …`": (
        "  在开发者控制台中注册应用，然后运行 `souk-dev login --client-id … --client-secret …`"
    ),
    "  cd {directory} && flask --app app run --port 8000      # in another terminal": (
        "  cd {directory} && flask --app app run --port 8000      # 在另一个终端中运行"
    ),
    "  before listing for real: public https URLs in {manifest}, texts in {listing}": (
        "  正式上架前：在 {manifest} 中填写公网可访问的 https URL，在 {listing} 中填写上架文案"
    ),
    # --- souk-dev: app deploy ---
    "Cannot read {path}: {error}.": "无法读取 {path}：{error}。",
    "No {manifest} in {directory}: is this an app folder? (`souk-dev app init` makes one.)": (
        "{directory} 中没有 {manifest}：这是应用文件夹吗？（可以用 `souk-dev app init` 创建一个。）"
    ),
    "{directory} is not a folder.": "{directory} 不是文件夹。",
    "Publishing {manifest} to {api_url} …": "正在将 {manifest} 发布到 {api_url} …",
    "  version {number} ({version_id})": "  版本 {number}（{version_id}）",
    "Uploading {module} ({size:,} bytes) …": "正在上传 {module}（{size:,} 字节）…",
    "  stored as {plugin_id} (sha256 {sha256}…)": "  已保存为 {plugin_id}（sha256 {sha256}…）",
    "  every plugin module of this version is already uploaded": "  此版本的所有 plugin 模块均已上传",
    "Submitting the version for review …": "正在提交该版本以供审核 …",
    "  submission {number} ({submission_id}): {status}": "  提交 #{number}（{submission_id}）：{status}",
    "  `souk-dev app status` shows the automated checks and the reviewers' decision.": (
        "  `souk-dev app status` 可查看自动检查的结果和审核人员的决定。"
    ),
    "{wasm} is missing or older than its source: run `souk-plugin build {project}` (or deploy without --no-build).": (
        "{wasm} 不存在或比源代码旧：请运行 `souk-plugin build {project}`（或部署时不加 --no-build）。"
    ),
    "Building {project} …": "正在构建 {project} …",
    "The manifest declares {module} but {wasm} does not exist: build the plugin "
    "(`souk-plugin build {project}`) or fix the path.": (
        "manifest 中声明了 {module}，但 {wasm} 不存在：请先构建 plugin（`souk-plugin build {project}`），或修正路径。"
    ),
    "--submit needs {path}: texts, category, icon, screenshots, support_contact, privacy_url, "
    "changelog and scope_justifications (`souk-dev app init` writes an example).": (
        "--submit 需要 {path}，其中包含 texts、category、icon、screenshots、support_contact、privacy_url、"
        "changelog 和 scope_justifications（`souk-dev app init` 会生成一个示例）。"
    ),
    "{path} is not valid JSON: {error}.": "{path} 不是有效的 JSON：{error}。",
    "{path} must hold a JSON object.": "{path} 的内容必须是一个 JSON 对象。",
    "{path}: {field} must be the name of an image file next to it.": (
        "{path}：{field} 必须是与它位于同一文件夹中的图片文件名。"
    ),
    "{path}: cannot read {field} {file}: {error}.": "{path}：无法读取 {field} {file}：{error}。",
    # --- souk-dev: app status ---
    "{name} ({app_id}): {status}": "{name}（{app_id}）：{status}",
    "  current version {number}, installed on {count} shop(s)": "  当前版本        {number}，已安装到 {count} 个店铺",
    "  listing         {state}": "  上架状态        {state}",
    "  last submission {number} (version {version}): {status}": (
        "  最近一次提交    #{number}（版本 {version}）：{status}"
    ),
    "    reason: {reason}": "    原因：{reason}",
    "  no submission yet: `souk-dev app deploy --submit`": "  尚未提交审核：`souk-dev app deploy --submit`",
    # --- souk-dev: webhooks ---
    "New secret issued; the previous one (second) signs too until {expires}.": (
        "已签发新密钥；在 {expires} 之前，旧密钥（第二个）也会参与签名。"
    ),
    "During a rotation the second one signs too until {expires}.": (
        "正在轮换：在 {expires} 之前，第二个密钥也会参与签名。"
    ),
    "Every delivery to your manifest's endpoints, in every shop, is signed with it.": (
        "发往 manifest 中各端点的每一次投递（无论来自哪个店铺）都用它签名。"
    ),
    "Sent a test {type} to {count} endpoint(s):": "已向 {count} 个端点发送测试事件 {type}：",
    "  {delivery_id} → {url} (shop {shop_id})": "  {delivery_id} → {url}（店铺 {shop_id}）",
    "--max-events must be 1 or more.": "--max-events 必须大于或等于 1。",
    "--forward-to must be an http(s) URL such as http://localhost:8000/webhooks, not {url!r}.": (
        "--forward-to 必须是 http(s) URL，例如 http://localhost:8000/webhooks，而不是 {url!r}。"
    ),
    "Ready: forwarding the deliveries of app {app_id} ({count} endpoint(s)) to {url}. Press Ctrl-C to stop.": (
        "已就绪：正在将应用 {app_id}（{count} 个端点）的投递转发到 {url}。按 Ctrl-C 停止。"
    ),
    # --- souk-plugin: argparse ---
    "Create, build, check, run and replay Souk Wasm plugins (ABI v1) with production limits.": (
        "按生产环境的限制创建、构建、检查、运行和重放 Souk Wasm plugin（ABI v1）。"
    ),
    "create a plugin project with a working sample": "创建一个带可运行示例的 plugin 项目",
    "project name; the folder ./NAME is created": "项目名称；将创建文件夹 ./NAME",
    "source language": "源代码语言",
    "compile a project (clang or AssemblyScript), then check it": "编译项目（clang 或 AssemblyScript），然后检查结果",
    "project folder (default: the current one)": "项目文件夹（默认：当前文件夹）",
    "validate a module as an upload would (ABI v1 and limits)": "按上传时的规则验证模块（ABI v1 与各项限制）",
    "the .wasm module": ".wasm 模块",
    "run a module on an input with production limits": "按生产环境的限制，用给定输入运行模块",
    "extension point: {points}": "扩展点：{points}",
    "JSON file with the point's input": "包含该扩展点输入数据的 JSON 文件",
    "cart/order lines the limits are scaled for (default: counted in the input)": (
        "按多少行购物车/订单明细来缩放限制（默认：从输入中统计）"
    ),
    "re-run a logged production call and diff the output": "重新运行一次已记录的生产环境调用，并对比输出",
    "an invocation log id (pli_…, fetched from the API) or an exported log file "
    "(JSON: point, input, output, outcome, module_sha256)": (
        "调用日志 id（pli_…，从 API 获取）或导出的日志文件（JSON：point、input、output、outcome、module_sha256）"
    ),
    "the .wasm module to run": "要运行的 .wasm 模块",
    "where to fetch a log id from (default: $SOUK_API_URL, else {default})": (
        "从哪个站点获取日志 id（默认：$SOUK_API_URL；未设置时为 {default}）"
    ),
    "a shop access token with read_plugins, to fetch a log id (default: $SOUK_TOKEN)": (
        "具有 read_plugins 权限的店铺 access token，用于获取日志 id（默认：$SOUK_TOKEN）"
    ),
    # --- souk-plugin new, build, check ---
    "{name!r} is not a valid project name: use 1-64 letters, digits, '-' or '_', starting with a letter.": (
        "{name!r} 不是有效的项目名称：请使用 1 到 64 个字母、数字、'-' 或 '_'，并以字母开头。"
    ),
    "{directory} already exists and is not an empty folder; choose another name.": (
        "{directory} 已存在且不是空文件夹；请换一个名称。"
    ),
    "Created {directory}/ ({language} plugin for cart.validate):": (
        "已创建 {directory}/（用于 cart.validate 的 {language} plugin）："
    ),
    "Next:": "后续步骤：",
    "Built {wasm}": "已构建 {wasm}",
    "{path}: OK (ABI v1)": "{path}：通过（ABI v1）",
    "{path}: REJECTED": "{path}：未通过",
    "  size     {size:,} bytes of {limit:,} ({share})": "  大小     {size:,} 字节，上限 {limit:,}（{share}）",
    "  exports  {exports}": "  导出     {exports}",
    "(none)": "（无）",
    "  imports  {imports}": "  导入     {imports}",
    "  problem  [{code}] {message}": "  问题     [{code}] {message}",
    # --- souk-plugin run ---
    "--lines must be 0 or more, not {lines}.": "--lines 必须大于或等于 0，而不是 {lines}。",
    "point     {point}": "扩展点    {point}",
    "{lines} (--lines)": "{lines}，来自 --lines",
    "{lines} (counted in the input)": "{lines}，从输入中统计",
    "a cart of up to 200 lines (no lines in the input)": "购物车最多 200 行，输入中没有 lines",
    "limits    production, for {why}": "限制      生产环境（{why}）",
    "The module is not a valid plugin [{code}]: {message} (see `souk-plugin check`).": (
        "该模块不是有效的 plugin [{code}]：{message}（参见 `souk-plugin check`）。"
    ),
    "outcome   ok": "结果      ok",
    "warning   {warning}": "警告      {warning}",
    "The input does not match the {point} input schema, so production never sends it:\n{problems}": (
        "该输入不符合 {point} 的输入 schema，生产环境从不会发送这样的输入：\n{problems}"
    ),
    "outcome   {outcome}: {message}": "结果      {outcome}：{message}",
    "raw output ({size:,} bytes): {preview}": "原始输出（{size:,} 字节）：{preview}",
    "used": "已用",
    "limit": "上限",
    "share": "占比",
    "fuel": "燃料",
    "memory": "内存",
    "input": "输入",
    "output": "输出",
    "time": "耗时",
    "{count:,} line": "{count:,} 行",
    "{count:,} lines": "{count:,} 行",
    # --- souk-plugin replay ---
    "export": "导出",
    "{source} is not an invocation log export: expected a JSON object.": (
        "{source} 不是调用日志的导出文件：内容应为 JSON 对象。"
    ),
    "{source} is not an invocation log export: missing {missing} (expected the keys {keys}).": (
        "{source} 不是调用日志的导出文件：缺少 {missing}（应包含以下键：{keys}）。"
    ),
    "point     {point} (logged outcome: {outcome})": "扩展点    {point}（记录的结果：{outcome}）",
    "warning: {wasm} is not the module that was logged "
    "(logged sha256 {logged}, this file {sha256}): differences may come from the code.": (
        "警告：{wasm} 不是日志记录时运行的模块（记录的 sha256 为 {logged}，此文件为 {sha256}）：差异可能来自代码本身。"
    ),
    "fuel      logged {logged:,}, now {now:,}": "燃料      记录值 {logged:,}，本次 {now:,}",
    "outcome changed: {logged} -> {now}": "结果有变化：{logged} -> {now}",
    "same output as logged": "输出与记录一致",
    "output differs from the logged one (- logged only, + new only, ~ changed):": (
        "输出与记录不一致（- 仅记录中有，+ 仅本次有，~ 有变化）："
    ),
    "To fetch {log_id} the dev kit needs a shop access token with the read_plugins scope: "
    "pass --token or set SOUK_TOKEN (or replay an exported file instead).": (
        "获取 {log_id} 需要一个具有 read_plugins scope 的店铺 access token："
        "请传入 --token 或设置 SOUK_TOKEN（也可以改为重放导出的文件）。"
    ),
    "fetching {log_id} from {api_url}": "正在从 {api_url} 获取 {log_id}",
    "{api_url} refused the token (401): it is unknown, expired or revoked. "
    "Create a shop access token with the read_plugins scope and pass it as --token or SOUK_TOKEN.": (
        "{api_url} 拒绝了该 token（401）：token 无效、已过期或已被吊销。"
        "请创建一个具有 read_plugins scope 的店铺 access token，并通过 --token 或 SOUK_TOKEN 传入。"
    ),
    "{api_url} refused the call (403): {reason}. The token needs the read_plugins scope.": (
        "{api_url} 拒绝了该请求（403）：{reason}。token 需要具有 read_plugins scope。"
    ),
    "{api_url} has no invocation {log_id} in the token's shop (404). Check the id, and that the "
    "token belongs to the shop where the plugin ran.": (
        "在 {api_url} 上，该 token 所属的店铺中没有调用记录 {log_id}（404）。"
        "请检查 id，并确认 token 属于运行该 plugin 的店铺。"
    ),
    "{api_url} could not export {log_id} ({status}): {reason}": "{api_url} 无法导出 {log_id}（{status}）：{reason}",
    # --- souk-plugin: files ---
    "Unknown extension point {point!r}; the points are: {points}.": (
        "未知的扩展点 {point!r}；可用的扩展点有：{points}。"
    ),
    "module": "模块",
    "The {what} file {path} does not exist.": "{what}文件 {path} 不存在。",
    "The {what} file {path} is a directory.": "{what}文件 {path} 是一个目录。",
    "Cannot read the {what} file {path}: {error}.": "无法读取{what}文件 {path}：{error}。",
    "The {what} file {path} is not UTF-8 text.": "{what}文件 {path} 不是 UTF-8 文本。",
    "The {what} file {path} is not valid JSON: {error} at line {line}, column {column}.": (
        "{what}文件 {path} 不是有效的 JSON：第 {line} 行第 {column} 列：{error}。"
    ),
    "The {what} file {path} is not valid JSON: {error}.": "{what}文件 {path} 不是有效的 JSON：{error}。",
    "{name} is not allowed in JSON": "JSON 中不允许出现 {name}",
    # --- souk-plugin build (the toolchain) ---
    "{directory} is not a directory (expected a project made by `souk-plugin new`).": (
        "{directory} 不是目录（应为用 `souk-plugin new` 创建的项目）。"
    ),
    "No plugin source in {directory}: expected {sources} "
    "(create a project with `souk-plugin new NAME --lang c|assemblyscript`).": (
        "{directory} 中没有 plugin 源文件：应为 {sources}"
        "（可用 `souk-plugin new NAME --lang c|assemblyscript` 创建项目）。"
    ),
    " or ": " 或 ",
    "{directory} has both plugin.c and plugin.ts; keep one.": (
        "{directory} 中同时有 plugin.c 和 plugin.ts；请只保留一个。"
    ),
    "clang was not found on PATH: install the Debian packages `clang` and `lld`.": (
        "在 PATH 中找不到 clang：请安装 Debian 软件包 `clang` 和 `lld`。"
    ),
    "wasm-ld (the Wasm linker clang uses) was not found on PATH: install the Debian package `lld`.": (
        "在 PATH 中找不到 wasm-ld（clang 使用的 Wasm 链接器）：请安装 Debian 软件包 `lld`。"
    ),
    "npx was not found on PATH: install Node.js and npm (Debian packages `nodejs` and `npm`).": (
        "在 PATH 中找不到 npx：请安装 Node.js 和 npm（Debian 软件包 `nodejs` 和 `npm`）。"
    ),
    "AssemblyScript is not installed in {directory}: run `npm install` there "
    "(it installs the npm package `assemblyscript` listed in package.json).": (
        "{directory} 中没有安装 AssemblyScript：请在该目录中运行 `npm install`"
        "（它会安装 package.json 中列出的 npm 包 `assemblyscript`）。"
    ),
    "The build took longer than {seconds} s and was stopped.": "构建耗时超过 {seconds} 秒，已被终止。",
    "Could not start {program}: {error}.": "无法启动 {program}：{error}。",
    "The build failed (exit code {code}):\n{output}": "构建失败（退出码 {code}）：\n{output}",
    "The build succeeded but wrote no {wasm} in {directory}.": "构建成功，但没有在 {directory} 中生成 {wasm}。",
}
