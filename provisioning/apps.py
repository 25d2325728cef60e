from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Provisioning"

    def ready(self) -> None:
        from catalog import panels
        from core import navigation
        from provisioning.panels import run_and_resources

        panels.register(run_and_resources, live=True)
        navigation.register("Resources", "provisioning:resource-list", order=40)
        navigation.register("Runbooks", "provisioning:runbook-list", order=45)
        from pathlib import Path

        from audit.authz import register_hidden_objects
        from catalog.importer import DefinitionKind, register_kind
        from provisioning import handoff  # noqa: F401  (connects the catalog's hand-off)
        from provisioning.backends import register_backends
        from provisioning.models import (
            DriftFinding,
            ProvisioningRun,
            Resource,
            RunbookRun,
            RunStep,
        )
        from provisioning.runbook_spec import lint_runbook
        from provisioning.services.runbooks import runbook_conflict, runbook_publish

        register_backends()
        register_kind(
            DefinitionKind(
                kind="Runbook",
                noun="runbook",
                lint=lint_runbook,
                conflict=runbook_conflict,
                publish=runbook_publish,
                default_root=Path(__file__).resolve().parent / "definitions",
            )
        )
        register_hidden_objects(
            ProvisioningRun,
            "uuid",
            ("uuid",),
            ["provisioning:run-cancel", "api:run-detail", "api:run-cancel"],
        )
        register_hidden_objects(RunStep, "uuid", ("uuid",), ["api:step-detail"])
        register_hidden_objects(
            DriftFinding,
            "uuid",
            ("uuid",),
            [
                "provisioning:drift-accept",
                "provisioning:drift-reapply",
                "api:drift-finding-detail",
                "api:drift-finding-accept",
                "api:drift-finding-reapply",
            ],
        )
        register_hidden_objects(
            Resource,
            "uuid",
            ("uuid",),
            [
                "provisioning:resource-detail",
                "provisioning:resource-extend",
                "provisioning:resource-delete",
                "provisioning:resource-secret",
                "api:resource-detail",
                "api:resource-extend",
                "api:resource-delete-all",
                "api:resource-reveal-secret",
            ],
        )
        register_hidden_objects(
            RunbookRun,
            "uuid",
            ("uuid",),
            [
                "provisioning:runbook-run-detail",
                "provisioning:runbook-run-live",
                "provisioning:runbook-run-approve",
                "provisioning:runbook-run-reject",
                "api:runbook-run-detail",
                "api:runbook-run-approve",
                "api:runbook-run-reject",
            ],
        )
