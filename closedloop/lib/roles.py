"""The three roles of API.md, kept as Django groups, and the permission classes that read them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

AGENT = "agent"
MANAGER = "manager"
INTEGRATION = "integration"
ROLES = (AGENT, MANAGER, INTEGRATION)


def user_roles(user: User | AnonymousUser) -> frozenset[str]:
    """The roles a user has; a superuser counts as a manager. Cached on the user object."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_closedloop_roles", None)
    if cached is None:
        cached = _remember_roles(user, user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    return cached


def _remember_roles(user: User, groups: Any) -> frozenset[str]:
    names = set(groups)
    if user.is_superuser:
        names.add(MANAGER)
    roles = frozenset(names)
    setattr(user, "_closedloop_roles", roles)  # noqa: B010 (a per-request cache the user model does not declare)
    return roles


class TokenWithRolesAuthentication(TokenAuthentication):
    """DRF's token sign-in, reading the user's groups in the same query as the token and user.

    Every API request checks a role, so this saves each one a query of its own. The query has a
    row per group of the user (one with no group when there is none); a join compiles and runs
    faster than a subquery per role.
    """

    def authenticate_credentials(self, key: str) -> tuple[User, Any]:
        rows = list(
            self.get_model()
            ._default_manager.select_related("user")
            .annotate(group=F("user__groups__name"))
            .filter(key=key)
        )
        if not rows:
            raise AuthenticationFailed(_("Invalid token."))
        token = rows[0]
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        _remember_roles(token.user, (row.group for row in rows if row.group in ROLES))
        return token.user, token


def is_manager(user: User | AnonymousUser) -> bool:
    return MANAGER in user_roles(user)


class _HasRole(BasePermission):
    roles: frozenset[str] = frozenset()

    def has_permission(self, request, view) -> bool:
        return bool(self.roles & user_roles(request.user))


class IsManager(_HasRole):
    message = "Only managers may do this."
    roles = frozenset({MANAGER})


class CanIngest(_HasRole):
    """Pushing responses and help-desk events: integrations and managers."""

    message = "Only integration users and managers may ingest responses."
    roles = frozenset({INTEGRATION, MANAGER})


class CanReadResponses(_HasRole):
    """Reading responses and NPS: every role (integrations pull them into BI tools)."""

    message = "Your account has no role that may read responses."
    roles = frozenset(ROLES)


class ManagerPermissionsBackend:
    """Managers hold every permission, so the Django admin is their configuration console.

    Listed after ModelBackend in AUTHENTICATION_BACKENDS; it authenticates nobody itself.
    """

    def authenticate(self, request, **credentials) -> None:
        return None

    def has_perm(self, user, perm: str, obj=None) -> bool:
        return user.is_active and is_manager(user)

    def has_module_perms(self, user, app_label: str) -> bool:
        return user.is_active and is_manager(user)
