"""The tokens DRF's authtoken app made before SSOps had its own move here: same key (stored as
its digest from now on), all three scopes (DRF's tokens could do anything their owner could),
an expiry SSOPS_TOKEN_DEFAULT_DAYS from the migration, and an audit event each. The old table
is emptied, so that no key is left in clear; Django no longer manages it (DRF's authtoken app
is not installed any more)."""

import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.keys import key_digest, key_prefix

OLD_TABLE = "authtoken_token"
NAME = "migrated DRF token"


def _moment(value) -> datetime | None:
    """A timestamp as the raw cursor gives it (SQLite: text, PostgreSQL: a datetime)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def move_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    from audit.services import audit_record

    ApiToken = apps.get_model("accounts", "ApiToken")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    now = timezone.now()
    expires = now + timedelta(days=settings.TOKEN_DEFAULT_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, created, user_id FROM {OLD_TABLE} ORDER BY created")
        rows = cursor.fetchall()
    for key, created, user_id in rows:
        token = ApiToken.objects.create(
            uuid=uuid.uuid4(),
            kind="personal",
            name=NAME,
            user_id=user_id,
            scopes=["read", "write", "approve"],
            key_prefix=key_prefix(key),
            key_digest=key_digest(key),
            created_at=_moment(created) or now,
            expires_at=expires,
        )
        audit_record(
            action="token.migrated",
            object_type="accounts.apitoken",
            object_id=str(token.uuid),
            payload={
                "name": NAME,
                "kind": "personal",
                "user": User.objects.get(pk=user_id).username,
                "shown_as": token.key_prefix,
                "expires_at": expires,
            },
        )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {OLD_TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [migrations.RunPython(move_drf_tokens, migrations.RunPython.noop)]
