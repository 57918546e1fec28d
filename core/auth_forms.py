"""The login forms (the app's and the admin's): Django's, with the limits every form keeps.

Django's ``AuthenticationForm`` sets its user name's ``max_length`` in ``__init__``
without a validator behind it, and its password has none: a 100 kB user name went
to the login throttle, which stores it in a 255-character column, and failed there
with a 500. Declared here with their limits, and NUL refused (``FirmFormMixin``).
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UsernameField

from core.forms import FirmFormMixin

USERNAME_MAX_LENGTH = 150  # django.contrib.auth's User.username
# Long enough for any passphrase or password manager; PBKDF2 pre-hashes long ones.
PASSWORD_MAX_LENGTH = 1000


class LoginForm(FirmFormMixin, AuthenticationForm):
    username = UsernameField(
        max_length=USERNAME_MAX_LENGTH, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = forms.CharField(
        label="Password",
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """The admin's login: staff only (``AdminAuthenticationForm``), same limits."""
