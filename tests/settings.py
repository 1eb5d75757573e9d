"""Test settings: the real settings with tasks run inline and a fast password hasher.

Tests use PostgreSQL when DATABASE_URL names it (CI always does) and SQLite otherwise.
"""

from closedloop.settings import *  # noqa: F403
from closedloop.settings import ALLOWED_HOSTS, Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
