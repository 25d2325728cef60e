"""Load catalog definitions (template and policy YAML, and the kinds other apps register, such as
provisioning's runbooks) from folders, lint them all, and publish them in one transaction: a bad
file rejects the whole import, with file and field named."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import semver
import yaml
from django.db import transaction

from catalog.policy.documents import PolicySpec, lint_policy
from catalog.services.policies import policy_problems, policy_save
from catalog.services.templates import template_publish, template_version_conflict
from catalog.template_spec import TemplateSpec, lint_template
from core import strict_yaml

DEFAULT_ROOT = Path(__file__).resolve().parent / "definitions"


@dataclass(frozen=True)
class DefinitionKind:
    """A kind of definition that an app above the catalog imports with the catalog's files.

    `lint(document)` gives (spec or None, errors); `conflict(spec)` says why it cannot be
    published ("" when it can); `publish(actor=, spec=, source_path=)` gives (object, created);
    `default_root` is the app's own folder of definitions, imported by default."""

    kind: str
    noun: str
    lint: Callable[[dict], tuple[Any, list[str]]]
    conflict: Callable[[Any], str]
    publish: Callable[..., tuple[Any, bool]]
    default_root: Path


KINDS: dict[str, DefinitionKind] = {}


def register_kind(kind: DefinitionKind) -> None:
    KINDS[kind.kind] = kind


def default_roots() -> list[Path]:
    return [DEFAULT_ROOT, *(kind.default_root for kind in KINDS.values())]


@dataclass
class ImportReport:
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    policies_saved: list[str] = field(default_factory=list)
    policies_unchanged: list[str] = field(default_factory=list)
    # Registered kinds: "runbook" → the labels published, and those unchanged.
    others_published: dict[str, list[str]] = field(default_factory=dict)
    others_unchanged: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Definitions:
    templates: list[tuple[str, TemplateSpec]] = field(default_factory=list)
    policies: list[tuple[str, PolicySpec]] = field(default_factory=list)
    others: list[tuple[DefinitionKind, str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _files(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"})
        else:
            found.append(path)
    return found


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _module_reader(folder: Path):
    def read(name: str) -> str:
        target = (folder / name).resolve()
        if folder.resolve() not in target.parents:
            raise OSError(f"{name} is outside the policy's folder")
        try:
            text = target.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise OSError(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        if "\x00" in text:
            raise OSError(f"{name} contains a NUL character")
        return text

    return read


def definitions_load(paths: list[Path]) -> Definitions:
    """Parse and lint every file; policy examples run; published versions must not change."""
    loaded = Definitions()
    seen: dict[tuple[str, str], str] = {}
    for path in _files(paths):
        shown = _shown(path)
        try:
            document = strict_yaml.load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            loaded.errors.append(f"{shown}: cannot read YAML: {exc}")
            continue
        kind = document.get("kind") if isinstance(document, dict) else None
        if kind == "Template":
            spec, errors = lint_template(document)
            if spec is not None:
                conflict = template_version_conflict(spec)
                key = (spec.name, spec.version)
                if key in seen and seen[key] != spec.digest:
                    conflict = f"{spec.name} {spec.version} is defined twice, differently"
                seen[key] = spec.digest
                if conflict:
                    loaded.errors.append(f"{shown}: spec.version: {conflict}")
                else:
                    loaded.templates.append((shown, spec))
        elif kind == "Policy":
            spec, errors = lint_policy(document, _module_reader(path.parent))
            if spec is not None:
                problems = policy_problems(
                    slug=spec.name, source=spec.source, examples=spec.examples
                )
                loaded.errors += [f"{shown}: spec.module: {problem}" for problem in problems]
                if not problems:
                    loaded.policies.append((shown, spec))
        elif kind in KINDS:
            other = KINDS[kind]
            spec, errors = other.lint(document)
            if spec is not None:
                conflict = other.conflict(spec)
                if conflict:
                    loaded.errors.append(f"{shown}: spec.version: {conflict}")
                else:
                    loaded.others.append((other, shown, spec))
        else:
            errors = []
            *others, last = ["Template", "Policy", *KINDS]
            loaded.errors.append(f"{shown}: kind: must be {', '.join(others)} or {last}")
        loaded.errors += [f"{shown}: {error}" for error in errors]
    return loaded


def catalog_import(*, actor, paths: list[Path] | None = None, check: bool = False) -> ImportReport:
    """Lint everything, then (unless `check`) publish new template versions and save changed
    policies, all or nothing. Re-importing the same files changes nothing."""
    loaded = definitions_load(paths or default_roots())
    report = ImportReport(errors=loaded.errors)
    if loaded.errors or check:
        return report
    with transaction.atomic():
        for _, policy in loaded.policies:
            _, changed = policy_save(
                actor=actor,
                slug=policy.name,
                title=policy.title,
                description=policy.description,
                mode=policy.mode,
                source=policy.source,
                examples=policy.examples,
            )
            (report.policies_saved if changed else report.policies_unchanged).append(policy.name)
        ordered = sorted(
            loaded.templates, key=lambda t: (t[1].name, semver.Version.parse(t[1].version))
        )
        for source, template in ordered:
            _, created = template_publish(actor=actor, spec=template, source_path=source)
            label = f"{template.name} {template.version}"
            (report.published if created else report.unchanged).append(label)
        for other, source, spec in loaded.others:
            _, created = other.publish(actor=actor, spec=spec, source_path=source)
            listed = report.others_published if created else report.others_unchanged
            listed.setdefault(other.noun, []).append(f"{spec.name} {spec.version}")
    return report
