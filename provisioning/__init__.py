"""The provisioning engine: runs a request's template steps one Celery task each, undoes what a
failed run left behind, deletes resources at the end of their life, and runs runbooks.

- `base`: what a backend receives (StepContext) and returns (StepResult), and its errors.
- `runner`: one attempt of one step (claim, render, call the backend, record).
- `backends/`: PostgreSQL, Kubernetes, temporary access, webhooks and the runbook built-ins,
  registered in `catalog.actions` by `register_backends()` when the catalog app is ready.
- `crypto`: secrets at rest (Fernet keyed by SSOPS_SECRETS_KEY).
- `orphans`: the orphan scan; `verify`: the check after a runbook's action.
"""
