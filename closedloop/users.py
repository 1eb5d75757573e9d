"""People who sign in: creating users in one of the roles, changing and deactivating them, listing
them, and revoking their API token when their password changes or they are deactivated."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from rest_framework.authtoken.models import Token

from closedloop.lib.exceptions import save_unique
from closedloop.lib.roles import MANAGER, ROLES
from closedloop.lib.updates import model_update
from followups.models import Team

UserModel = get_user_model()


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    email: str = "",
    role: str,
    first_name: str = "",
    last_name: str = "",
    teams: Iterable[Team] = (),
) -> User:
    """Create an active user in one role, in ``teams``.

    The password must pass the configured validators. None leaves the user without one (an
    unusable password): they choose their own through the password-reset link sent to ``email``.
    """
    _check_role(role)
    # Managers configure the product in the Django admin, which needs is_staff to sign in.
    user = UserModel(
        username=username, email=email, first_name=first_name, last_name=last_name, is_staff=role == MANAGER
    )
    if password is None:
        if not email:
            raise ValidationError({"email": ["Needed to send the link that sets the password."]})
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    user.full_clean()
    save_unique(user)
    user.groups.add(_role_group(role))
    user.teams.set(teams)
    return user


@transaction.atomic
def user_update(
    *, user: User, first_name: str, last_name: str, email: str, role: str, teams: Iterable[Team], actor: User
) -> User:
    """Change a user's name, email, role and teams; the last active manager keeps the manager role."""
    _check_role(role)
    if role != MANAGER and user.is_active:
        _keep_a_manager(losing=user, field="role")
    model_update(user, {"first_name": first_name, "last_name": last_name, "email": email, "is_staff": role == MANAGER})
    others = user.groups.exclude(name=role).filter(name__in=ROLES)
    user.groups.remove(*others)
    user.groups.add(_role_group(role))
    user.teams.set(teams)
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, actor: User) -> User:
    """Deactivate (no sign-in, no token, no new cases) or reactivate a user.

    Nobody deactivates themselves, nor the last active manager: someone must be left to undo it.
    The token goes with the deactivation (``revoke_token_on_credential_change``).
    """
    if not active:
        if user.pk == actor.pk:
            raise ValidationError({"active": ["You cannot deactivate yourself."]})
        _keep_a_manager(losing=user, field="active")
    model_update(user, {"is_active": active})
    return user


@transaction.atomic
def token_replace(*, user: User) -> Token:
    """A new API token for ``user``: the old one, if any, stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def token_revoke(*, user: User) -> None:
    Token.objects.filter(user=user).delete()


def _keep_a_manager(*, losing: User, field: str) -> None:
    """Refuse a change that would leave no active manager (a superuser counts as one).

    The active managers' rows are locked first, so two managers demoting each other at once are
    served one after the other and the second sees that the first is gone.
    """
    managers = UserModel.objects.select_for_update(of=("self",)).filter(
        Q(is_superuser=True) | Q(groups__name=MANAGER), is_active=True
    )
    remaining = {pk for pk in managers.values_list("pk", flat=True) if pk != losing.pk}
    if not remaining:
        raise ValidationError({field: ["This is the last active manager: make another user a manager first."]})


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError({"role": [f"Must be one of: {', '.join(ROLES)}."]})


def _role_group(role: str) -> Group:
    # get_or_create: the roles migration made the groups, but a flushed database has none.
    return Group.objects.get_or_create(name=role)[0]


def user_list() -> QuerySet[User]:
    """Users with their role groups prefetched, by username."""
    roles = Prefetch("groups", queryset=Group.objects.filter(name__in=ROLES), to_attr="role_groups")
    return UserModel.objects.prefetch_related(roles).order_by("username")


def people_list() -> QuerySet[User]:
    """``user_list`` with each user's teams: the manager's people page."""
    return user_list().prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))


def role_of(user: User) -> str | None:
    """The user's role for display; a superuser is a manager. Needs ``user_list``'s prefetch."""
    if user.is_superuser:
        return "manager"
    names = [group.name for group in user.role_groups]  # type: ignore[attr-defined]  # the Prefetch's to_attr
    return names[0] if names else None


_CREDENTIAL_FIELDS = frozenset({"password", "is_active"})


def revoke_token_on_credential_change(
    sender: type[User], instance: User, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    """Before a user is saved with a new password or deactivated, delete their API token.

    Connected to the user model's ``pre_save``, so it covers every path that changes either: the
    Django admin, ``set_password`` then ``save``, the password change and reset forms, and
    ``manage.py changepassword``. A token proves a past sign-in with a password; after the
    password changes, or the account is closed, it must prove nothing. Revoked before the save:
    should the save fail, the user only signs in again.
    """
    if instance._state.adding or (update_fields is not None and not update_fields & _CREDENTIAL_FIELDS):
        return
    stored = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    deactivated = stored["is_active"] and not instance.is_active
    if deactivated or _password_replaced(instance, stored["password"], update_fields):
        Token.objects.filter(user_id=instance.pk).delete()


def _password_replaced(user: User, stored_hash: str, update_fields: frozenset[str] | None) -> bool:
    if user.password == stored_hash:
        return False
    # check_password() re-hashes the same password when the hasher's settings change (a new
    # Django raises the iterations), then saves that field alone after forgetting the raw
    # password; set_password() keeps the raw one until the save. A re-hash is not a new password.
    return not (getattr(user, "_password", None) is None and update_fields == frozenset({"password"}))
