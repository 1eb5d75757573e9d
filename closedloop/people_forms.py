"""Forms of the manager's people pages. They parse input only; the rules (roles, the last manager,
password strength) are the services' in ``closedloop.users``, whose errors land back on these forms."""

from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import User
from django.http import HttpRequest

from closedloop.lib.roles import AGENT, MANAGER, ROLES
from followups.models import Team

ROLE_LABELS = {AGENT: "Agent: works cases", MANAGER: "Manager: everything, set-up included"}
ROLE_CHOICES = [(role, ROLE_LABELS.get(role, "Integration: API access for other systems")) for role in ROLES]


class PersonForm(forms.Form):
    """What a manager changes about someone: name, email, role, teams."""

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254, required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=AGENT, widget=forms.RadioSelect)
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple
    )


class PersonCreateForm(PersonForm):
    """A new user: also the username and how they get a password."""

    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    password = forms.CharField(
        label="Initial password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to email them a link where they choose their own password.",
    )
    field_order = ["username", "first_name", "last_name", "email", "role", "teams", "password"]


class SetPasswordLinkForm(PasswordResetForm):
    """Django's reset email, sent to one new user, who has no usable password yet.

    The reset form itself skips users without a usable password (so a stranger cannot claim a
    closed account); a manager creating the account asks for exactly this one.
    """

    def __init__(self, user: User) -> None:
        super().__init__(data={"email": user.email})
        self._user = user

    def send(self, request: HttpRequest) -> None:
        """Email the link through Django's reset templates, to the user's address."""
        if not self.is_valid():  # the address was checked when the user was made
            raise ValueError(self.errors)
        self.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name="registration/set_password_subject.txt",
            email_template_name="registration/set_password_email.txt",
        )

    def get_users(self, email: str) -> Iterator[User]:
        """The one new user, whatever the address matches."""
        return iter([self._user])
