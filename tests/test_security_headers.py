"""The Content-Security-Policy, no inline code for it to refuse, HTTPS behind the proxy, check --deploy."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.test import Client

ROOT = Path(settings.BASE_DIR)
TEMPLATES = sorted(path for path in ROOT.glob("*/templates/**/*.html"))
# What a policy without 'unsafe-inline' refuses: <script> without src, <style>, style="", on*="".
INLINE_CODE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)

# The settings the README's "Production deployment" section lists, with made-up values.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "nps.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://nps.example.com",
    "SITE_URL": "https://nps.example.com",
    "BEHIND_TLS_PROXY": "true",
    "SECURE_COOKIES": "true",
}


def production(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python`` in a process of its own, with the production settings and nothing else."""
    keep = {name: value for name, value in os.environ.items() if name in {"PATH", "HOME", "DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**keep, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "closedloop.settings", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_templates_hold_no_inline_script_or_style():
    assert len(TEMPLATES) > 20
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in TEMPLATES
        for match in INLINE_CODE.finditer(path.read_text())
    ]
    assert offenders == []


def test_every_page_sends_a_policy_that_allows_nothing_inline(db):
    policy = Client().get("/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in policy
    assert "script-src" not in directives and "style-src" not in directives  # both fall back to 'self'


def test_the_home_page_renders_without_inline_code(maya, survey):
    client = Client()
    client.force_login(maya)
    page = client.get("/").content.decode()
    assert INLINE_CODE.search(page) is None


def test_the_api_docs_load_their_start_up_script_from_the_product(anonymous_api, db):
    page = anonymous_api.get("/api/v1/docs/").content.decode()
    assert INLINE_CODE.search(page) is None
    sources = re.findall(r'<script src="([^"]+)"', page) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert sources and all(source.startswith("/") and not source.startswith("//") for source in sources), sources
    start_up = next(source for source in sources if "script" in source.split("?")[-1])
    reply = anonymous_api.get(start_up)
    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in reply.content.decode()


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = production("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


HTTPS_PROBE = """
import json
import django
django.setup()
from django.test import Client, override_settings
# The page's {% static %} links need collectstatic's manifest; plain storage stands in for it here.
plain_storage = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
override_settings(STORAGES={"staticfiles": plain_storage}).enable()
plain = Client(HTTP_HOST="nps.example.com")
secure = Client(HTTP_HOST="nps.example.com", HTTP_X_FORWARDED_PROTO="https")
page = plain.get("/login/")
health = plain.get("/healthz")
signed = secure.get("/login/")
print(json.dumps({
    "redirect": [page.status_code, page.get("Location")],
    "health": health.status_code,
    "hsts": signed.get("Strict-Transport-Security"),
    "cookie_secure": bool(signed.cookies["csrftoken"]["secure"]),
}))
"""


def test_behind_the_tls_proxy_http_is_redirected_and_https_is_pinned():
    result = production("-c", HTTPS_PROBE)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["redirect"] == [301, "https://nps.example.com/login/"]
    assert seen["health"] != 301  # the load balancer probes over plain HTTP
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["cookie_secure"] is True


def test_without_the_proxy_nothing_is_redirected(db):
    assert Client().get("/login/").status_code == 200
    assert "Strict-Transport-Security" not in Client().get("/login/")
