from rest_framework import serializers

from catalog.models import Membership, Team


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["username", "role"]


class TeamSerializer(serializers.ModelSerializer):
    memberships = MembershipSerializer(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["uuid", "slug", "name", "cost_center", "memberships"]
        read_only_fields = fields
