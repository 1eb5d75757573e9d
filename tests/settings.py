"""Test settings: the real settings with tasks run inline and a fast password hasher.

Tests use PostgreSQL when DATABASE_URL names it (CI always does) and SQLite otherwise.
"""

from closedloop.settings import *  # noqa: F403
from closedloop.settings import ALLOWED_HOSTS, Q_CLUSTER, STORAGES

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The webhook tests' receivers listen on 127.0.0.1; the tests of the refusals turn this off.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
# Static files from the apps' folders, unhashed: the suite runs without collectstatic, and
# whitenoise still serves them (tests/test_serve.py covers the collected, hashed files).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
STATIC_ROOT = None  # type: ignore[assignment]  # nothing collected: whitenoise reads the finders
WHITENOISE_USE_FINDERS = True
