from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    payload = serializers.JSONField(read_only=True)
    actor = serializers.CharField(source="actor_name", read_only=True)
    # Generated columns: the schema generator cannot see that these may be null.
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)
    team_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "uuid",
            "ts",
            "actor",
            "actor_id",
            "action",
            "object_type",
            "object_id",
            "team_id",
            "request_id",
            "trace_id",
            "payload",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields
