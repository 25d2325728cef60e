"""Sign-out of someone who came through the identity provider notes where the provider's
session ends (accounts.signin.ProviderLogoutMiddleware sends the browser there).

A person leaving a team is news for their tokens: a later use of one is an unexpected actor
(the metrics app's scan flags it). Connected to the membership's deletion, whoever deletes it
(the admin, a service, a sign-in that finds a group gone), inside the same transaction."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts import oidc
from accounts.services import tokens_owner_left
from teams.models import Membership, Team


@receiver(post_delete, sender=Membership)
def on_membership_deleted(sender, instance: Membership, **kwargs):
    # The team may be going too (a cascade): name it, and link it only while it exists.
    team = Team.objects.filter(pk=instance.team_id).first()
    slug = team.slug if team else ""
    tokens_owner_left(user_id=instance.user_id, team=team, team_slug=slug)


@receiver(user_logged_out)
def on_logged_out(sender, request, user, **kwargs):
    """Note where the provider's session ends, before Django empties the session."""
    if request is None or not oidc.enabled():
        return
    id_token = request.session.get(oidc.ID_TOKEN_KEY)
    if id_token:
        request.oidc_end_session_url = oidc.end_session_url(id_token)
