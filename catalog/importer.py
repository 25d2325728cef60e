"""Load catalog definitions (template, policy and runbook YAML) from folders, lint them all, and
publish them in one transaction: a bad file rejects the whole import, with file and field named."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import semver
import yaml
from django.db import transaction

from catalog.policy.documents import PolicySpec, lint_policy
from catalog.runbook_spec import RunbookSpec, lint_runbook
from catalog.services.policies import policy_problems, policy_save
from catalog.services.runbooks import runbook_conflict, runbook_publish
from catalog.services.templates import template_publish, template_version_conflict
from catalog.template_spec import TemplateSpec, lint_template
from ssops_site import strict_yaml

DEFAULT_ROOT = Path(__file__).resolve().parent / "definitions"


@dataclass
class ImportReport:
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    policies_saved: list[str] = field(default_factory=list)
    policies_unchanged: list[str] = field(default_factory=list)
    runbooks_published: list[str] = field(default_factory=list)
    runbooks_unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Definitions:
    templates: list[tuple[str, TemplateSpec]] = field(default_factory=list)
    policies: list[tuple[str, PolicySpec]] = field(default_factory=list)
    runbooks: list[tuple[str, RunbookSpec]] = field(default_factory=list)
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
        elif kind == "Runbook":
            spec, errors = lint_runbook(document)
            if spec is not None:
                conflict = runbook_conflict(spec)
                if conflict:
                    loaded.errors.append(f"{shown}: spec.version: {conflict}")
                else:
                    loaded.runbooks.append((shown, spec))
        else:
            errors = []
            loaded.errors.append(f"{shown}: kind: must be Template, Policy or Runbook")
        loaded.errors += [f"{shown}: {error}" for error in errors]
    return loaded


def catalog_import(*, actor, paths: list[Path] | None = None, check: bool = False) -> ImportReport:
    """Lint everything, then (unless `check`) publish new template versions and save changed
    policies, all or nothing. Re-importing the same files changes nothing."""
    loaded = definitions_load(paths or [DEFAULT_ROOT])
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
        for source, runbook in loaded.runbooks:
            _, created = runbook_publish(actor=actor, spec=runbook, source_path=source)
            label = f"{runbook.name} {runbook.version}"
            (report.runbooks_published if created else report.runbooks_unchanged).append(label)
    return report
