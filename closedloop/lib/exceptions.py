"""Errors services raise, and the one place the API turns them into responses."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A request the domain refuses (400). ``errors`` maps field names to messages."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class ConflictError(ApplicationError):
    """A state change that is not allowed from the current state (409)."""

    status_code = status.HTTP_409_CONFLICT


def body_too_large_message(limit: int) -> str:
    """What a client whose request body is over ``limit`` bytes is told."""
    return f"The request body is larger than this endpoint accepts ({limit / 1_000_000:.3g} MB at most)."


def save_unique(instance: models.Model) -> None:
    """Save a validated instance; a unique value stored meanwhile is a ValidationError, not a 500.

    ``full_clean`` cannot see a row that a concurrent request inserts after it looked. On
    PostgreSQL the second insert waits for the first to commit and then fails on the unique
    index; by then the other row is visible, so the model's own checks, run again, say which
    field clashes in the words ``full_clean`` uses. The savepoint keeps the caller's transaction
    usable after the failed insert.
    """
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        instance.validate_unique()
        instance.validate_constraints()
        raise


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain and Django errors to the API's 4xx bodies; anything else stays a 500."""
    if isinstance(exc, ApplicationError):
        body = exc.errors if exc.errors else {"detail": exc.message}
        return Response(body, status=exc.status_code)
    # Django raises these reading a form body (BodySizeLimitMiddleware lets an endpoint with a
    # larger limit receive one); left alone they are bare HTML 400s.
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": body_too_large_message(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}, status=413)
    if isinstance(exc, TooManyFieldsSent):
        detail = f"Too many fields: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}."
        return Response({"detail": detail}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(body)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return exception_handler(exc, context)
