"""`ssops`: the SSOps catalog from a terminal, over the REST API.

    ssops login --url https://ssops.example [--token TOKEN]
    ssops templates [-q database]
    ssops template postgres-database
    ssops request create postgres-database --team payments --param name=payments-ledger \\
        --param size=small --param environment=dev [--watch]
    ssops request list | show UUID | watch UUID | cancel UUID
    ssops approvals
    ssops approve UUID [--comment …]   ssops reject UUID --comment …
    ssops token list [--all] | create NAME [--scope write] [--days 30] | revoke UUID
    ssops gate checkout                 # a CI step: exit 0 open, 3 frozen

The URL and token are kept in $SSOPS_CONFIG (default ~/.config/ssops/config.json, mode 0600);
$SSOPS_URL and $SSOPS_TOKEN, when both are set, are used instead (CI pipelines).
Exit status: 0 done; 1 an error (network, HTTP, refused); 2 wrong usage; 3 the request ended
denied, rejected, expired, cancelled, failed or rolled back, or the gate is closed; 4 `watch`
timed out.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

TIMEOUT = 15
FINAL_BAD = {"denied", "rejected", "expired", "cancelled", "failed", "rolled_back", "deleted"}
LIVE = {"submitted", "pending_approval", "approved", "provisioning"}
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}


class CliError(Exception):
    """A problem to report on stderr; `status` is the exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def config_path() -> Path:
    if os.environ.get("SSOPS_CONFIG"):
        return Path(os.environ["SSOPS_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ssops" / "config.json"


def config_load() -> dict:
    if os.environ.get("SSOPS_URL") and os.environ.get("SSOPS_TOKEN"):
        return {"url": os.environ["SSOPS_URL"], "token": os.environ["SSOPS_TOKEN"]}
    path = config_path()
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError("not logged in: run `ssops login --url URL --token TOKEN` first") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None


def config_save(url: str, token: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"url": url, "token": token}, handle)
    path.chmod(0o600)
    return path


def _errors(body: Any, prefix: str = "") -> list[str]:
    """DRF error bodies ({"field": ["msg"]}, nested) as 'field: msg' lines."""
    if isinstance(body, dict):
        lines = []
        for key, value in body.items():
            name = key if key not in {"detail", "non_field_errors"} else ""
            lines += _errors(value, f"{prefix}.{name}".strip(".") if name else prefix)
        return lines
    if isinstance(body, list):
        return [line for item in body for line in _errors(item, prefix)]
    return [f"{prefix}: {body}" if prefix else str(body)]


class Client:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if token:  # none before `ssops login` has one
            self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, *, answers: tuple[int, ...] = (), **kwargs) -> Any:
        """The JSON of the answer; CliError for an error status not among `answers`."""
        try:
            response = self.session.request(method, self.url + path, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise CliError(f"cannot reach {self.url}: {exc}") from None
        if response.status_code >= 400 and response.status_code not in answers:
            try:
                body = response.json()
            except ValueError:
                body = response.text[:200] or response.reason
            lines = "\n".join(f"  {line}" for line in _errors(body))
            raise CliError(f"{method} {path} answered {response.status_code}:\n{lines}")
        return response.json() if response.content else None

    def get(self, path: str, **params) -> Any:
        return self.call("GET", path, params={k: v for k, v in params.items() if v})

    def post(self, path: str, body: dict | None = None) -> Any:
        return self.call("POST", path, json=body or {})

    def results(self, path: str, **params) -> list:
        page = self.get(path, **params)
        return page["results"] if isinstance(page, dict) and "results" in page else page


def segment(text: str) -> str:
    """A name or id as one segment of an API path: "../teams" cannot reach another endpoint
    (HTTP clients resolve dot segments before sending)."""
    if text in ("", ".", ".."):
        raise CliError(f"{text!r} is not a name or id", status=2)
    return quote(text, safe="")


def coerce(name: str, text: str, schema: dict) -> Any:
    """A --param value typed by the template's JSON Schema (unknown names stay text)."""
    prop = schema.get("properties", {}).get(name, {})
    kind = prop.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        word = "a whole number" if kind == "integer" else "a number"
        raise CliError(f"--param {name}: {text!r} is not {word}", status=2) from None
    if kind == "boolean":
        if text.lower() in TRUE_WORDS | FALSE_WORDS:
            return text.lower() in TRUE_WORDS
        raise CliError(f"--param {name}: {text!r} is not true or false", status=2)
    if kind == "array":
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def parse_params(pairs: list[str], schema: dict) -> dict:
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CliError(f"--param {pair!r}: use name=value", status=2)
        params[name.strip()] = coerce(name.strip(), value, schema)
    return params


def show(data: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print("\n".join(lines))


def request_lines(r: dict) -> list[str]:
    flag = "  [BREAK-GLASS]" if r.get("break_glass") else ""
    lines = [
        f"{r['uuid']}  {r['template']} {r['version']} for {r['team']} by {r['requester']}{flag}",
        f"  state: {r['state']}   risk: {r['risk_tier']}   approvals needed: "
        f"{r['required_approvals']}",
    ]
    if r.get("change_kind", "normal") != "normal":
        lines.append(f"  kind: {r['change_kind'].replace('_', '-')}")
    lines += [f"  denied: {reason}" for reason in r.get("deny_reasons", [])]
    lines += [f"  warning: {warning}" for warning in r.get("warnings", [])]
    if r.get("break_glass_detail"):
        detail = r["break_glass_detail"]
        lines.append(f"  break-glass by {detail['by']} until {detail['until']}: {detail['reason']}")
    return lines


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _provider_post(url: str, data: dict) -> tuple[int, dict]:
    try:
        response = requests.post(url, data=data, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise CliError(f"cannot reach the identity provider at {url}: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status_code, body if isinstance(body, dict) else {}


def device_sign_in(url: str, found: dict) -> str:
    """The device authorization grant (RFC 8628) with the provider, then SSOps's own token for
    the ID token it gives."""
    status, started = _provider_post(
        found["device_authorization_endpoint"],
        {"client_id": found["client_id"], "scope": found["scope"]},
    )
    if status != 200 or "device_code" not in started:
        raise CliError(f"the identity provider refused to start a device sign-in: {started}")
    where = started.get("verification_uri_complete") or started["verification_uri"]
    print(
        f"To sign in, open {where}\nand confirm the code {started['user_code']} "
        f"({found['provider_name']}).",
        file=sys.stderr,
        flush=True,
    )
    interval = int(started.get("interval") or 5)
    deadline = time.monotonic() + int(started.get("expires_in") or 600)
    while time.monotonic() < deadline:
        time.sleep(interval)
        status, answer = _provider_post(
            found["token_endpoint"],
            {
                "grant_type": DEVICE_GRANT,
                "device_code": started["device_code"],
                "client_id": found["client_id"],
            },
        )
        error = answer.get("error")
        if status == 200 and answer.get("id_token"):
            minted = Client(url, "").post(
                "/api/auth/oidc/device-token/", {"id_token": answer["id_token"]}
            )
            return minted["key"]
        if error == "slow_down":
            interval += 5
        elif error != "authorization_pending":
            raise CliError(f"the identity provider ended the sign-in: {error or status}")
    raise CliError("the sign-in was not confirmed in time; run `ssops login` again", status=4)


def cmd_login(args) -> int:
    token = args.token or os.environ.get("SSOPS_TOKEN")
    if not token:
        found = Client(args.url, "").get("/api/auth/oidc/")
        if found["enabled"] and found["device_authorization_endpoint"]:
            token = device_sign_in(args.url, found)
        else:
            print(
                f"Make a token on {args.url.rstrip('/')}/accounts/tokens/ and paste it here.",
                file=sys.stderr,
            )
            token = getpass.getpass("API token: ")
    me = Client(args.url, token).get("/api/me/")
    path = config_save(args.url, token)
    print(f"logged in to {args.url} as {me['username']} (saved in {path})")
    return 0


def cmd_whoami(client: Client, args) -> int:
    me = client.get("/api/me/")
    teams = ", ".join(f"{t['slug']} ({t['role']})" for t in me["teams"]) or "none"
    admin = " · platform admin" if me["platform_admin"] else ""
    show(me, args.json, [f"{me['username']}{admin}", f"teams: {teams}"])
    return 0


def cmd_templates(client: Client, args) -> int:
    items = client.results("/api/templates/", q=args.query, tag=args.tag)
    lines = [
        f"{t['slug']:<28} {t['latest_version'] or '-':<9} {t['risk_tier']:<7} {t['title']}"
        for t in items
    ]
    show(items, args.json, lines or ["no template matches"])
    return 0


def _version(client: Client, slug: str, version: str | None) -> dict:
    if version:
        return client.get(f"/api/templates/{segment(slug)}/versions/{segment(version)}/")
    template = client.get(f"/api/templates/{segment(slug)}/")
    if not template.get("latest"):
        raise CliError(f"{slug} has no published version")
    return template["latest"]


def cmd_template(client: Client, args) -> int:
    version = _version(client, args.slug, args.version)
    schema = version["parameters"]
    required = set(schema.get("required", []))
    lines = [
        f"{args.slug} {version['version']}: {version['title']} ({version['risk_tier']} risk, "
        f"{version['required_approvals']} approval(s), TTL {version['default_ttl_hours']}h, "
        f"max {version['max_ttl_hours']}h, {version['cost_monthly']} {version['currency']}/month)",
        "parameters:",
    ]
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type", "")
        choices = prop.get("enum") or prop.get("items", {}).get("enum")
        extra = f" one of {', '.join(map(str, choices))}" if choices else ""
        default = f" (default {prop['default']})" if "default" in prop else ""
        star = " *" if name in required else ""
        lines.append(f"  {name}{star}: {kind}{extra}{default}")
    show(version, args.json, lines)
    return 0


def _final_status(state: str) -> int:
    return 3 if state in FINAL_BAD else 0


def cmd_request_create(client: Client, args) -> int:
    version = _version(client, args.template, args.version)
    body = {
        "template": args.template,
        "version": args.version or "",
        "team": args.team,
        "parameters": parse_params(args.param, version["parameters"]),
        "justification": args.justification,
        "change_kind": args.change_kind,
    }
    if args.ttl_hours is not None:
        body["ttl_hours"] = args.ttl_hours
    created = client.post("/api/requests/", body)
    show(created, args.json, request_lines(created))
    if args.watch:
        return watch(client, created["uuid"], args.interval, args.timeout, args.until, quiet=True)
    return _final_status(created["state"])


def cmd_request_list(client: Client, args) -> int:
    params = {"state": args.state, "team": args.team}
    if not args.all:
        params["mine"] = "true"
    items = client.results("/api/requests/", **params)
    lines = [
        f"{r['uuid']}  {r['state']:<16} {r['template']:<22} {r['team']:<12} {r['requester']}"
        + ("  [BREAK-GLASS]" if r["break_glass"] else "")
        for r in items
    ]
    show(items, args.json, lines or ["no requests"])
    return 0


def cmd_request_show(client: Client, args) -> int:
    r = client.get(f"/api/requests/{segment(args.uuid)}/")
    lines = request_lines(r) + ["  timeline:"]
    lines += [
        f"    {t['created_at']}  {t['from_state'] or '-'} -> {t['to_state']}"
        f"  by {t['actor'] or 'SSOps'}{': ' + t['reason'] if t['reason'] else ''}"
        for t in r["transitions"]
    ]
    show(r, args.json, lines)
    return 0


def watch(
    client: Client,
    uuid: str,
    interval: float,
    timeout: float,
    until: list[str],
    quiet: bool = False,
) -> int:
    """Print each new state until the request leaves the live states (or reaches `until`)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        r = client.get(f"/api/requests/{segment(uuid)}/")
        if r["state"] != last:
            if not (quiet and last is None):
                print(f"{time.strftime('%H:%M:%S')}  {r['state']}")
            last = r["state"]
        if r["state"] in until or r["state"] not in LIVE:
            return _final_status(r["state"])
        if time.monotonic() >= deadline:
            print(f"still {r['state']} after {timeout:g}s", file=sys.stderr)
            return 4
        time.sleep(interval)


def cmd_request_watch(client: Client, args) -> int:
    return watch(client, args.uuid, args.interval, args.timeout, args.until)


def cmd_request_cancel(client: Client, args) -> int:
    r = client.post(f"/api/requests/{segment(args.uuid)}/cancel/")
    show(r, args.json, request_lines(r))
    return 0


def cmd_approvals(client: Client, args) -> int:
    items = client.results("/api/approvals/")
    lines = []
    for r in items:
        lines += request_lines(r)
        if r.get("justification"):
            lines.append(f"  justification: {r['justification']}")
    show(items, args.json, lines or ["nothing waits for your decision"])
    return 0


def cmd_decide(client: Client, args) -> int:
    verb = "approve" if args.command == "approve" else "reject"
    r = client.post(f"/api/requests/{segment(args.uuid)}/{verb}/", {"comment": args.comment})
    show(r, args.json, request_lines(r))
    return 0


# --- API tokens ------------------------------------------------------------------------------


def token_line(t: dict) -> str:
    used = t["last_used_at"] or "never"
    return (
        f"{t['uuid']}  {t['state']:<8} {t['shown_as']}…  {','.join(t['scopes']):<19} "
        f"expires {t['expires_at']}  last used {used}  {t['name']}"
    )


def cmd_token_list(client: Client, args) -> int:
    items = client.results("/api/tokens/")
    if not args.all:
        items = [t for t in items if t["state"] == "active"]
    show(items, args.json, [token_line(t) for t in items] or ["no tokens"])
    return 0


def cmd_token_create(client: Client, args) -> int:
    body: dict[str, Any] = {"name": args.name, "scopes": args.scope or ["read"]}
    if args.days is not None:
        body["days"] = args.days
    made = client.post("/api/tokens/", body)
    print("the key is shown this once: SSOps keeps only a digest of it", file=sys.stderr)
    show(made, args.json, [token_line(made), made["key"]])
    return 0


def cmd_token_revoke(client: Client, args) -> int:
    revoked = client.post(f"/api/tokens/{segment(args.uuid)}/revoke/", {"reason": args.reason})
    show(revoked, args.json, [token_line(revoked)])
    return 0


# --- resources and runbooks ------------------------------------------------------------------

RUNBOOK_BAD = {"denied", "rejected", "failed"}


def resource_line(r: dict) -> str:
    return (
        f"{r['uuid']}  {r['state']:<13} {r['kind']:<22} {r['name']:<28} {r['team']:<12} "
        f"expires {r['expires_at'] or '-'}"
    )


def cmd_resources(client: Client, args) -> int:
    params = {"state": args.state, "team": args.team, "kind": args.kind}
    if not args.all:
        params["mine"] = "true"
    items = client.results("/api/resources/", **params)
    show(items, args.json, [resource_line(r) for r in items] or ["no resources"])
    return 0


def cmd_resource_show(client: Client, args) -> int:
    r = client.get(f"/api/resources/{segment(args.uuid)}/")
    lines = [
        resource_line(r),
        f"  request {r['request']} ({r['template']} {r['template_version']}) by {r['requester']}"
        f", cost center {r['cost_center'] or '-'}, billed as {r['external_id'] or '-'}",
    ]
    lines += [f"  {key}: {value}" for key, value in sorted((r.get("details") or {}).items())]
    show(r, args.json, lines)
    return 0


def cmd_resource_extend(client: Client, args) -> int:
    r = client.post(f"/api/resources/{segment(args.uuid)}/extend/", {"hours": args.hours})
    show(r, args.json, [resource_line(r)])
    return 0


def cmd_resource_delete(client: Client, args) -> int:
    run = client.post(f"/api/resources/{segment(args.uuid)}/delete/")
    show(run, args.json, [f"teardown run {run['uuid']}: {run['state']}"])
    return 0


def cmd_resource_secret(client: Client, args) -> int:
    secret = client.post(f"/api/resources/{segment(args.uuid)}/reveal-secret/")
    print("shown once: SSOps no longer has it after this", file=sys.stderr)
    show(secret, args.json, [f"{secret['name']}: {secret['password']}"])
    return 0


def cmd_runbooks(client: Client, args) -> int:
    items = client.results("/api/runbooks/")
    lines = [f"{r['slug']:<24} {r['version']:<8} {r['risk_tier']:<7} {r['title']}" for r in items]
    show(items, args.json, lines or ["no runbooks"])
    return 0


def cmd_runbook_run(client: Client, args) -> int:
    runbook = client.get(f"/api/runbooks/{segment(args.slug)}/")
    body = {
        "team": args.team,
        "parameters": parse_params(args.param, runbook["parameters"]),
        "justification": args.justification,
    }
    started = client.post(f"/api/runbooks/{segment(args.slug)}/run/", body)
    lines = [
        f"{started['uuid']}  {started['runbook']} {started['runbook_version']}: "
        f"{started['state']} ({started['risk_tier']} risk)"
    ]
    lines += [f"  denied: {reason}" for reason in started["deny_reasons"]]
    lines += [f"  warning: {warning}" for warning in started["warnings"]]
    show(started, args.json, lines)
    return 3 if started["state"] in RUNBOOK_BAD else 0


def cmd_gate(client: Client, args) -> int:
    """The service's deploy gate: 0 when open, 3 while a change freeze holds."""
    gate = client.call("GET", f"/api/gates/{segment(args.service)}/", answers=(409,))
    lines = [f"{gate['service']}: {'open' if gate['open'] else 'FROZEN'}"]
    lines += [f"  {reason}" for reason in gate.get("reasons", [])]
    for slo in gate["slos"]:
        budget = "-" if slo["budget_left"] is None else f"{slo['budget_left']:.1%}"
        firing = ", ".join(slo["firing"]) or "quiet"
        lines.append(f"  {slo['name']}: budget left {budget}, {firing}, data {slo['data_status']}")
    show(gate, args.json, lines)
    return 0 if gate["open"] else 3


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the API's JSON")
    parser = argparse.ArgumentParser(prog="ssops", description="The SSOps service catalog.")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(group, name: str, handler, help_text: str = "", **defaults):
        sub = group.add_parser(name, help=help_text, parents=[common])
        sub.set_defaults(handler=handler, **defaults)
        return sub

    login = command(
        commands, "login", cmd_login, "sign in, remember URL and token", needs_client=False
    )
    login.add_argument("--url", required=True, help="for example https://ssops.example")
    login.add_argument(
        "--token",
        help="API token (default: $SSOPS_TOKEN, else a sign-in through the identity provider "
        "where SSOps has one, else asked for)",
    )
    command(commands, "whoami", cmd_whoami, "who the token belongs to")
    templates = command(commands, "templates", cmd_templates, "list or search the catalog")
    templates.add_argument("-q", "--query", default="")
    templates.add_argument("--tag", default="")
    template = command(commands, "template", cmd_template, "one template and its parameters")
    template.add_argument("slug")
    template.add_argument("--version")

    request = commands.add_parser("request", help="file, list, show, watch or cancel requests")
    actions = request.add_subparsers(dest="action", required=True)
    create = command(actions, "create", cmd_request_create, "file a request")
    create.add_argument("template")
    create.add_argument("--team", required=True)
    create.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    create.add_argument("--version")
    create.add_argument("--ttl-hours", type=int)
    create.add_argument("--justification", default="")
    kind = create.add_mutually_exclusive_group()
    kind.add_argument(
        "--fix",
        dest="change_kind",
        action="store_const",
        const="fix",
        help="it fixes what burns the error budget (goes through a change freeze)",
    )
    kind.add_argument(
        "--break-glass",
        dest="change_kind",
        action="store_const",
        const="break_glass",
        help="an emergency: a platform admin approves it with break-glass",
    )
    create.set_defaults(change_kind="normal")
    create.add_argument("--watch", action="store_true", help="then watch its state")
    listing = command(actions, "list", cmd_request_list, "your requests (--all: your teams')")
    listing.add_argument("--all", action="store_true")
    listing.add_argument("--state")
    listing.add_argument("--team")
    for name, handler in (
        ("show", cmd_request_show),
        ("watch", cmd_request_watch),
        ("cancel", cmd_request_cancel),
    ):
        command(actions, name, handler, f"{name} one request").add_argument("uuid")
    for sub in (create, actions.choices["watch"]):
        sub.add_argument("--interval", type=float, default=2.0)
        sub.add_argument("--timeout", type=float, default=600.0)
        sub.add_argument(
            "--until",
            action="append",
            default=["ready"],
            metavar="STATE",
            help="also stop at this state (repeatable; final states always stop)",
        )

    resources = command(commands, "resources", cmd_resources, "your resources (--all: your teams')")
    resources.add_argument("--all", action="store_true")
    resources.add_argument("--state")
    resources.add_argument("--team")
    resources.add_argument("--kind")
    resource = commands.add_parser("resource", help="show, extend or delete a resource")
    resource_actions = resource.add_subparsers(dest="action", required=True)
    for name, handler, help_text in (
        ("show", cmd_resource_show, "one resource"),
        ("delete", cmd_resource_delete, "delete everything its request made"),
        ("secret", cmd_resource_secret, "its generated secret, once, to its requester"),
    ):
        command(resource_actions, name, handler, help_text).add_argument("uuid")
    extend = command(resource_actions, "extend", cmd_resource_extend, "push back its expiry")
    extend.add_argument("uuid")
    extend.add_argument("--hours", type=int, required=True)
    command(commands, "runbooks", cmd_runbooks, "list the runbooks")
    runbook = commands.add_parser("runbook", help="run a runbook")
    runbook_actions = runbook.add_subparsers(dest="action", required=True)
    run = command(runbook_actions, "run", cmd_runbook_run, "run one (policies decide)")
    run.add_argument("slug")
    run.add_argument("--team")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--justification", default="")

    token = commands.add_parser("token", help="your API tokens: list, create, revoke")
    token_actions = token.add_subparsers(dest="action", required=True)
    token_list = command(token_actions, "list", cmd_token_list, "your tokens (--all: expired too)")
    token_list.add_argument("--all", action="store_true")
    token_create = command(token_actions, "create", cmd_token_create, "a new token (key once)")
    token_create.add_argument("name")
    token_create.add_argument(
        "--scope",
        action="append",
        choices=["read", "write", "approve"],
        help="repeatable; default read (write and approve include read)",
    )
    token_create.add_argument("--days", type=int, help="lifetime (default: the platform's)")
    token_revoke = command(token_actions, "revoke", cmd_token_revoke, "stop a token at once")
    token_revoke.add_argument("uuid")
    token_revoke.add_argument("--reason", default="")

    gate = command(commands, "gate", cmd_gate, "a service's deploy gate (exit 3 while frozen)")
    gate.add_argument("service")
    command(commands, "approvals", cmd_approvals, "requests waiting for your decision")
    for name, required in (("approve", False), ("reject", True)):
        decide = command(commands, name, cmd_decide, f"{name} a request")
        decide.add_argument("uuid")
        decide.add_argument("--comment", default="", required=required)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if not getattr(args, "needs_client", True):
            return args.handler(args)
        config = config_load()
        return args.handler(Client(config["url"], config["token"]), args)
    except CliError as exc:
        print(f"ssops: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
