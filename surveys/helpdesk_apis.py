"""POST /api/v1/webhooks/helpdesk/: a help desk says a ticket was solved; its requester is invited.

The signature is the authentication (``surveys.helpdesk``): a bad, missing or stale one is a
401 and stores nothing. A well-signed event the endpoint cannot read is a 400 saying why; one
of another kind (a ticket reopened, a comment) is acknowledged and ignored. The invitation goes
through the one invitation service, so fatigue, exclusions and "once per ticket" hold as for
any other, and is scheduled the survey's ``invite_delay_minutes`` after the ticket was solved.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http.request import RawPostDataException
from django.utils import timezone
from django_ratelimit.core import is_ratelimited
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.parsers import JSONInputError, parse_json
from surveys.helpdesk import TicketSolved, UnreadableEvent, signature_valid, ticket_solved
from surveys.models import Channel, Survey
from surveys.services.invitations import invitation_create

# A help desk closing tickets in bulk sends bursts; more than this from one address is a flood.
EVENTS_PER_ADDRESS = "600/m"


class HelpdeskEventSerializer(serializers.Serializer):
    """The generic shape (see the README); Zendesk's ticket events are read as they come."""

    event = serializers.ChoiceField(choices=["ticket.solved"])
    ticket = serializers.DictField(help_text='{"id", "solved_at", "custom_fields"}')
    requester = serializers.DictField(help_text='{"external_id", "email", "name"}')
    agent = serializers.DictField(required=False, help_text='{"username"} or {"email"} of who solved it.')
    team = serializers.SlugField(required=False, help_text="The team that handled it.")
    survey = serializers.SlugField(required=False, help_text="Default: HELPDESK_SURVEY.")


class HelpdeskOutcomeSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="The invitation's status, or ignored.")
    invitation = serializers.IntegerField(required=False)
    reason = serializers.CharField(required=False, help_text="Why it was suppressed.")
    send_at = serializers.DateTimeField(required=False)
    detail = serializers.CharField(required=False)


def _survey(event: TicketSolved) -> Survey:
    slug = event.survey or settings.HELPDESK_SURVEY
    surveys = Survey.objects.filter(slug=slug) if slug else Survey.objects.filter(active=True, kind="transactional")
    found = list(surveys[:2])
    if len(found) != 1:
        detail = f"No survey {slug!r}." if slug else 'Name the survey: set HELPDESK_SURVEY or send "survey".'
        raise ApplicationError("Invalid event.", errors={"survey": [detail]})
    return found[0]


def _agent_username(name: str) -> str:
    """The username of the agent the event names by username or email (empty when unknown)."""
    if not name:
        return ""
    user = get_user_model().objects.filter(Q(username=name) | Q(email__iexact=name), is_active=True).first()
    return user.get_username() if user else ""


class HelpdeskWebhookApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        request=HelpdeskEventSerializer,
        responses={
            202: HelpdeskOutcomeSerializer,
            200: HelpdeskOutcomeSerializer,
            400: OpenApiResponse(description="A well-signed event that cannot be read."),
            401: OpenApiResponse(description="A bad, missing or stale signature."),
        },
        summary='A help desk\'s "ticket solved" event (signed)',
        description="Signed with HMAC-SHA256 over the raw body (X-Closedloop-Signature: sha256=<hex>), or as "
        "Zendesk signs (X-Zendesk-Webhook-Signature with its timestamp header). 202: an invitation was made; "
        "200: the ticket was invited before, or the event is not a solved ticket.",
    )
    def post(self, request: Request) -> ApiResponse:
        # The signature is over the raw body: read it before anything parses the request.
        try:
            body = request.body
        except RawPostDataException as exc:
            raise ApplicationError("Send the event as a JSON body.") from exc
        if is_ratelimited(request, group="helpdesk-webhook", key="ip", rate=EVENTS_PER_ADDRESS, increment=True):
            raise Throttled(wait=60)
        now = timezone.now()
        if not signature_valid(request.headers, body, secret=settings.HELPDESK_WEBHOOK_SECRET, now=now):
            # A 401 as API.md fixes it (DRF answers 403 for a failure without an authentication scheme).
            refused = ApiResponse({"detail": "Bad, missing or stale signature."}, status=status.HTTP_401_UNAUTHORIZED)
            refused["WWW-Authenticate"] = 'Signature header="X-Closedloop-Signature"'
            return refused
        try:
            event = ticket_solved(parse_json(body.decode()))
        except UnicodeDecodeError as exc:
            raise ApplicationError("The body is not UTF-8 text.") from exc
        except (JSONInputError, UnreadableEvent) as exc:
            raise ApplicationError(str(exc)) from exc
        if event is None:
            return ApiResponse({"status": "ignored", "detail": "Not a solved ticket."})
        survey = _survey(event)
        made = invitation_create(
            survey=survey,
            customer=event.requester,
            channel=Channel.EMAIL,
            ticket_ref=event.ticket,
            agent=_agent_username(event.agent),
            team=event.team,
            ticket_fields=event.custom_fields,
            # A ticket solved long ago (an event retried late) is invited now.
            send_at=(event.solved_at or now) + timedelta(minutes=survey.invite_delay_minutes),
            now=now,
        )
        invitation = made.invitation
        outcome = {"status": invitation.status, "invitation": invitation.pk, "send_at": invitation.send_at}
        if invitation.reason:
            outcome["reason"] = invitation.reason
        code = status.HTTP_202_ACCEPTED if made.created else status.HTTP_200_OK
        return ApiResponse(HelpdeskOutcomeSerializer(outcome).data, status=code)
