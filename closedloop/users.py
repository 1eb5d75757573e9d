"""People who sign in: creating users in one of the roles, and listing them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet

from closedloop.lib.roles import MANAGER, ROLES

User = get_user_model()


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "", role: str) -> AbstractUser:
    """Create an active user in one role; the password must pass the configured validators."""
    if role not in ROLES:
        raise ValidationError({"role": [f"Must be one of: {', '.join(ROLES)}."]})
    # Managers configure the product in the Django admin, which needs is_staff to sign in.
    user = User(username=username, email=email, is_staff=role == MANAGER)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.full_clean()
    user.save()
    # get_or_create: the roles migration made the groups, but a flushed database has none.
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def user_list() -> QuerySet[AbstractUser]:
    """Users with their role groups prefetched, by username."""
    roles = Prefetch("groups", queryset=Group.objects.filter(name__in=ROLES), to_attr="role_groups")
    return User.objects.prefetch_related(roles).order_by("username")


def role_of(user: AbstractUser) -> str | None:
    """The user's role for display; a superuser is a manager. Needs ``user_list``'s prefetch."""
    if user.is_superuser:
        return "manager"
    names = [group.name for group in user.role_groups]
    return names[0] if names else None
