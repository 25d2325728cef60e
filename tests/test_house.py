"""The house rules (docs/architecture.md): SSOps's apps import only downward, in this order,

    core → teams → audit → accounts → slo → catalog → provisioning → metrics → dashboards → demo
    → ssops_site

counting imports inside functions, string lookups (model labels, dotted paths, `apps.get_model`,
`import_module`, task names) and templates (`{% include %}`, `{% extends %}`, `{% url %}`,
`{% load %}`); and the pure modules import no Django and no app code but other pure modules.
Migrations are left out: they are the history of the tables, and a model that moved between apps
needs the migrations of both.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [
    "core",
    "teams",
    "audit",
    "accounts",
    "slo",
    "catalog",
    "provisioning",
    "metrics",
    "dashboards",
    "demo",
    "ssops_site",
]
RANK = {app: rank for rank, app in enumerate(LAYERS)}
# Computation with no Django and no I/O: fast to test and easy to read.
PURE = [
    "core/context.py",
    "core/env.py",
    "core/masking.py",
    "audit/chain.py",
    "accounts/keys.py",
    "slo/maths.py",
    "slo/promql.py",
    "slo/windows.py",
    "slo/definitions.py",
    "slo/expressions.py",
    "slo/engine.py",
    "slo/promql_path.py",
    "slo/sources/base.py",
    "slo/maintenance.py",
    "slo/backtest.py",
    "catalog/actions.py",
    "catalog/lifecycle.py",
    "metrics/calculations.py",
    "metrics/catalogue.py",
    "metrics/periods.py",
    "metrics/stats.py",
]
FRAMEWORK = {"django", "rest_framework", "django_filters", "drf_spectacular", "celery", "kombu"}
DOTTED = re.compile(r"^(" + "|".join(LAYERS) + r")((?:\.[A-Za-z_]\w*)+)$")


def _python_files():
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


def _app_of(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in RANK else None


def _imported(tree: ast.AST):
    """(line, module) for every import and every string that names a module or a model."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args:
            # apps.get_model("catalog", "Request") and import_module("catalog.demo")
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            first = node.args[0]
            if name in {"get_model", "import_module", "send_task"} and isinstance(
                first, ast.Constant
            ):
                yield node.lineno, str(first.value)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and DOTTED.match(node.value)
        ):
            yield node.lineno, node.value


def _upward_python() -> list[str]:
    found = []
    for app, path in _python_files():
        tree = ast.parse(path.read_text(), str(path))
        for line, module in _imported(tree):
            target = _app_of(module)
            if target and RANK[target] > RANK[app]:
                found.append(f"{path.relative_to(ROOT)}:{line} {app} → {module}")
    return found


def _template_owners() -> dict[str, str]:
    """First folder of a template name → the app whose templates/ holds it."""
    owners = {}
    for app in LAYERS:
        folder = ROOT / app / "templates"
        for path in folder.rglob("*.html") if folder.exists() else []:
            relative = path.relative_to(folder)
            key = relative.parts[0] if len(relative.parts) > 1 else str(relative)
            owners.setdefault(key, app)
    return owners


def _tag_libraries() -> dict[str, str]:
    return {
        path.stem: app
        for app in LAYERS
        for path in (ROOT / app / "templatetags").glob("*.py")
        if path.stem != "__init__"
    }


def _url_owners() -> dict[str, str]:
    """Every URL name (with its namespace) → the app whose view it serves."""
    owners: dict[str, str] = {}

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                callback = pattern.callback
                module = getattr(callback, "cls", callback).__module__
                app = _app_of(module) or "django"
                owners[":".join(filter(None, [namespace, pattern.name]))] = app

    walk(get_resolver().url_patterns, "")
    return owners


TEMPLATE_TAG = re.compile(
    r"""\{%\s*(include|extends)\s+["']([^"']+)["']|\{%\s*url\s+["']([^"']+)["']"""
    r"""|\{%\s*load\s+([\w\s]+?)\s*%\}"""
)


def _upward_templates() -> list[str]:
    templates, libraries, urls = _template_owners(), _tag_libraries(), _url_owners()
    found = []
    for app in LAYERS:
        folder = ROOT / app / "templates"
        for path in sorted(folder.rglob("*.html")) if folder.exists() else []:
            text = path.read_text()
            for match in TEMPLATE_TAG.finditer(text):
                kind, template, url, loads = match.groups()
                if template:
                    names = [(template, templates.get(template.split("/")[0]))]
                elif url:
                    names = [(url, urls.get(url))]
                else:
                    names = [(lib, libraries.get(lib)) for lib in loads.split()]
                for name, owner in names:
                    if owner in RANK and RANK[owner] > RANK[app]:
                        line = text.count("\n", 0, match.start()) + 1
                        found.append(f"{path.relative_to(ROOT)}:{line} {app} → {owner}: {name}")
    return found


def _upward_reverse() -> list[str]:
    """reverse("ns:name") and redirect("ns:name") in Python, resolved to the view's app."""
    urls, found = _url_owners(), []
    for app, path in _python_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            first = node.args[0]
            if name in {"reverse", "redirect", "reverse_lazy", "resolve_url"} and isinstance(
                first, ast.Constant
            ):
                owner = urls.get(str(first.value))
                if owner in RANK and RANK[owner] > RANK[app]:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {app} → {first.value}")
    return found


def test_apps_import_only_downward():
    assert _upward_python() == []


def test_templates_use_only_their_own_app_and_those_below():
    assert _upward_templates() == []


def test_urls_reversed_in_code_belong_to_the_app_or_those_below():
    assert _upward_reverse() == []


def test_every_app_is_installed_in_house_order():
    from django.conf import settings

    ours = [app for app in settings.INSTALLED_APPS if app in RANK]
    assert ours == LAYERS


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_django_and_no_app_code(module):
    tree = ast.parse((ROOT / module).read_text())
    pure = {m.removesuffix(".py").replace("/", ".") for m in PURE}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from metrics import stats` imports the module metrics.stats
            names = [
                f"{node.module}.{alias.name}" if node.module in RANK else node.module
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            if _app_of(name):
                assert name in pure, f"{module}:{node.lineno} imports {name}, which is not pure"
            else:
                assert name.split(".")[0] not in FRAMEWORK, f"{module}:{node.lineno} imports {name}"


def test_the_check_finds_an_upward_import(tmp_path):
    """The checker itself: an import, a string lookup and a template each get caught."""
    code = (
        "def f():\n"
        "    from provisioning.models import Resource\n"
        "    apps.get_model('metrics', 'Incident')\n"
        "    return 'dashboards.views.home'\n"
    )
    found = [module for _, module in _imported(ast.parse(code))]
    assert found == ["provisioning.models", "metrics", "dashboards.views.home"]
    assert TEMPLATE_TAG.search('{% include "provisioning/_run_panel.html" %}')
