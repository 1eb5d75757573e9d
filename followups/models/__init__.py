"""Data of the loops: teams and their calendars, routing and SLA rules, cases and their
history, the root-cause taxonomy and its suggestions, improvements and their customer updates,
the notification outbox, outgoing webhooks, and the record of customers' data exported or erased."""

from followups.models.cases import Case, CaseEvent, CasePause, ResolutionCode
from followups.models.coding import ResponseRootCause, RootCause, RootCauseMerge
from followups.models.improvements import CustomerUpdate, Improvement, ImprovementRootCause, ImprovementStatusChange
from followups.models.messages import CaseMessage, CustomerMessageTemplate
from followups.models.notifications import Notification
from followups.models.privacy import CustomerPrivacyRecord
from followups.models.rules import RoutingRule, SlaPolicy
from followups.models.suggestions import SuggestionDecision, SuggestionModel
from followups.models.teams import AgentProfile, Team
from followups.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "AgentProfile",
    "Case",
    "CaseEvent",
    "CaseMessage",
    "CasePause",
    "CustomerMessageTemplate",
    "CustomerPrivacyRecord",
    "CustomerUpdate",
    "Improvement",
    "ImprovementRootCause",
    "ImprovementStatusChange",
    "Notification",
    "ResolutionCode",
    "ResponseRootCause",
    "RootCause",
    "RootCauseMerge",
    "RoutingRule",
    "SlaPolicy",
    "SuggestionDecision",
    "SuggestionModel",
    "Team",
    "WebhookDelivery",
    "WebhookEndpoint",
]
