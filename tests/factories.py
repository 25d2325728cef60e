import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from teams.choices import TeamRole
from teams.models import Membership, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("pw-for-tests")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.replace("-", " ").title())
    cost_center = factory.Sequence(lambda n: f"CC-{1000 + n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = TeamRole.MEMBER


def user_in_group(username: str, group: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def api_key(user, *, scopes=("read", "write", "approve"), name="test token", **kwargs) -> str:
    """A key of a new personal token of `user` (all scopes unless told), made as SSOps does."""
    from accounts.services import personal_token_create

    minted = personal_token_create(actor=None, user=user, name=name, scopes=list(scopes), **kwargs)
    return str(minted.key)
