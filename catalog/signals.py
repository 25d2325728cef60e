"""What the catalog tells the apps above it. Each signal is sent inside the transaction that
moved the request; a receiver that starts work does so on commit (`transaction.on_commit`), so
nothing starts for a change that is rolled back."""

from django.dispatch import Signal

# An approved request moved to `provisioning`: its resources are to be made (kwargs: request).
request_handed_off = Signal()
# A request's resources are to be deleted, its time to live having passed (kwargs: request).
request_teardown_due = Signal()
