"""Intake data: customers (and their accounts), surveys, invitations, responses, CSV import jobs."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from surveys.import_times import DateOrder
from surveys.nps import Category, classify

COMMENT_MAX_LENGTH = 5000
CATEGORY_CHOICES = [(category.value, category.value.title()) for category in Category]
DATE_ORDER_CHOICES = [(order.value, order.value.capitalize()) for order in DateOrder]


class Account(models.Model):
    """A B2B grouping of customers (a client company of the service desk)."""

    external_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200, blank=True)
    # Labels such as "internal" or "partner": SURVEY_EXCLUDED_TAGS keeps their customers unsurveyed.
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name or self.external_id


class Customer(models.Model):
    """Someone who answers surveys, identified by the id the help desk knows them by."""

    external_id = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers")
    # Segment attributes (plan, region, ...) used by NPS breakdowns and routing rules.
    attributes = models.JSONField(default=dict, blank=True)
    surveys_unsubscribed_at = models.DateTimeField(null=True, blank=True)
    updates_unsubscribed_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # A constraint rather than unique=True: Django adds a second, pattern-matching index
            # for unique text fields, which every customer insert would have to maintain.
            models.UniqueConstraint(fields=["external_id"], name="customer_unique_external_id"),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class Survey(models.Model):
    class Kind(models.TextChoices):
        RELATIONSHIP = "relationship", "Relationship (periodic)"
        TRANSACTIONAL = "transactional", "Transactional (after a ticket)"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TRANSACTIONAL)
    question = models.CharField(
        max_length=500, default="How likely are you to recommend our IT support to a colleague?"
    )
    quarantine_days = models.PositiveIntegerField(default=90, help_text="Survey-fatigue window.")
    followup_passives = models.BooleanField(default=False)
    hot_threshold = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(10)], help_text="Scores at or below open hot cases."
    )
    require_coding = models.BooleanField(
        default=False, help_text="Cases need a resolution code and a root cause before resolving."
    )
    active = models.BooleanField(default=True)
    thank_you_promoter = models.TextField(blank=True, default="Thank you! We're glad we could help.")
    thank_you_passive = models.TextField(blank=True, default="Thank you. We'll use your feedback to do better.")
    thank_you_detractor = models.TextField(
        blank=True, default="Thank you for telling us. Someone from our team will contact you shortly."
    )
    # The "why?" question under the score, by the category the score falls in.
    question_detractor = models.CharField(max_length=300, default="What went wrong?")
    question_passive = models.CharField(max_length=300, default="What would make it a 9 or 10?")
    question_promoter = models.CharField(max_length=300, default="What did we do well?")
    # Promoters are invited to leave a public review here, when set.
    review_url = models.URLField(blank=True)
    # Invitation emails: who they come from and where replies go (empty: the site's defaults).
    sender_name = models.CharField(max_length=100, blank=True)
    reply_to = models.EmailField(blank=True)
    # How long after a help desk's "ticket solved" the invitation goes out.
    invite_delay_minutes = models.PositiveIntegerField(default=60)
    # One reminder this many days after an unanswered invitation; empty: no reminder.
    reminder_after_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # A customer may change their answer for this long after giving it.
    edit_window_hours = models.PositiveIntegerField(default=72)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(hot_threshold__lte=10), name="survey_hot_threshold_0_10"),
        ]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WEB = "web", "Web"
    IN_APP = "in_app", "In app"
    PHONE = "phone", "Phone"
    API = "api", "API"
    IMPORT = "import", "Import"


class ContactPreference(models.TextChoices):
    """What the customer said about being contacted about their answer; empty: they did not say."""

    CONTACT = "contact", "Please contact me"
    NO_CONTACT = "no_contact", "Do not contact me"


class Response(models.Model):
    """One answer to the NPS question. The category is stored so aggregates need no CASE."""

    # No index of its own: the (survey, submitted_at) index below serves every lookup by survey.
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="responses")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    category = models.CharField(max_length=9, choices=CATEGORY_CHOICES, editable=False)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX_LENGTH)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.API)
    submitted_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    ticket_ref = models.CharField(max_length=100, blank=True)
    contact_preference = models.CharField(max_length=10, choices=ContactPreference.choices, blank=True)
    # Idempotency key from the sending system; unique per survey when given.
    external_id = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=10), name="response_score_0_10"),
            models.CheckConstraint(
                condition=(
                    Q(category=Category.PROMOTER, score__gte=9)
                    | Q(category=Category.PASSIVE, score__gte=7, score__lte=8)
                    | Q(category=Category.DETRACTOR, score__lte=6)
                ),
                name="response_category_matches_score",
            ),
            models.UniqueConstraint(
                fields=["survey", "external_id"],
                condition=Q(external_id__isnull=False),
                name="response_unique_external_id_per_survey",
            ),
        ]
        indexes = [
            # NPS over time for all surveys (GET /api/v1/nps/, the home page): an index-only
            # scan over a date range, since category is carried in the index.
            models.Index(fields=["submitted_at"], include=["category"], name="response_time_cat_idx"),
            # The same per survey, and GET /api/v1/responses/?survey=...
            models.Index(fields=["survey", "submitted_at"], include=["category"], name="response_survey_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.score} from {self.customer_id} on {self.submitted_at:%Y-%m-%d}"

    def save(self, *args, **kwargs) -> None:
        # The category is derived from the score and never set independently.
        self.category = classify(self.score)
        super().save(*args, **kwargs)


class ImportJob(models.Model):
    """A file of responses (CSV or Excel) uploaded from the web UI, imported by the task cluster."""

    class Status(models.TextChoices):
        # Uploaded and previewed: the mapping is still being chosen, nothing runs.
        DRAFT = "draft", "Draft"
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="import_jobs")
    # Empty for imports run from the command line.
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    file_name = models.CharField(max_length=255)
    content = models.TextField(blank=True, help_text="The uploaded CSV, kept until the import finishes.")
    # A file imported from the command line is read where it lies, never loaded whole.
    source_path = models.CharField(max_length=1000, blank=True, help_text="A CSV file on disk, instead of content.")
    source_encoding = models.CharField(max_length=20, blank=True)
    mapping = models.JSONField(default=dict, blank=True, help_text="API field -> CSV column.")
    # How the file's times are read: dates such as 03/10/2026, and times without a zone.
    date_order = models.CharField(max_length=12, choices=DATE_ORDER_CHOICES, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: the site's time zone.")
    tool = models.CharField(max_length=64, blank=True, help_text="The tool whose export the file is, if known.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.JSONField(default=list, blank=True, help_text="[{line, errors}] for rejected rows.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def rejected_count(self) -> int:
        """Rows refused so far: every row read is created, a duplicate, or rejected."""
        return self.rows - self.created - self.duplicates

    @property
    def rejected_unlisted(self) -> int:
        """Rejected rows beyond those ``rejected`` lists (it keeps the first REJECTED_KEPT)."""
        return self.rejected_count - len(self.rejected)


class SurveyWave(models.Model):
    """One relationship survey sent to a sample of customers, spread over a sending window."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="waves")
    # Customer attributes the customers must have, {"plan": "gold"}; empty: everyone.
    segments = models.JSONField(default=dict, blank=True)
    sample = models.PositiveIntegerField(null=True, blank=True, help_text="At most this many; empty: all eligible.")
    window_hours = models.PositiveIntegerField(default=24)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()
    # Counted when the wave was planned: who matched the segments, and who could be asked.
    matched = models.PositiveIntegerField(default=0)
    eligible = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.survey_id} wave of {self.created_at:%Y-%m-%d}"


class Invitation(models.Model):
    """One customer asked to answer one survey: scheduled, then sent or suppressed (and why), then answered.

    Email invitations are sent by the task cluster once ``send_at`` comes; on the channels the
    product does not send itself (SMS, in-app, a chat bot) the caller delivers the links the API
    answers with, and the invitation counts as sent at once. A ticket is invited at most once
    per survey, however often it is solved again.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"
        ANSWERED = "answered", "Answered"

    class Reason(models.TextChoices):
        QUARANTINE = "quarantine", "Asked too recently"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed from surveys"
        NO_ADDRESS = "no_address", "No email address"
        ERASED = "erased", "Erased"
        EXCLUDED = "excluded", "Internal or partner"
        STAFF = "staff", "One of the agents"
        INACTIVE_SURVEY = "inactive_survey", "Survey inactive"

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    # No index of its own: invitation_customer_idx begins with it.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invitations", db_index=False)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    # The help-desk ticket it follows, and who handled it: praise reaches the agent, cases route by team.
    ticket_ref = models.CharField(max_length=100, blank=True)
    agent = models.CharField(max_length=150, blank=True, help_text="Username of the agent who handled the ticket.")
    team = models.CharField(max_length=80, blank=True, help_text="Slug of the team that handled the ticket.")
    # The ticket's custom fields as the help desk sent them.
    ticket_fields = models.JSONField(default=dict, blank=True)
    wave = models.ForeignKey(SurveyWave, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations")
    # A recovery check-in: the detractor's response whose case was resolved (one check-in each).
    recovers = models.OneToOneField(
        Response, null=True, blank=True, on_delete=models.SET_NULL, related_name="recovery_check"
    )
    send_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    response = models.OneToOneField(
        Response, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # When the sending task takes it next: ``send_at`` at first; while a run sends it, the end of
    # the run's lease; after a failed attempt, the retry.
    next_attempt_at = models.DateTimeField()
    # The email as sent, the record of it.
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "ticket_ref"], condition=~Q(ticket_ref=""), name="invitation_once_per_ticket"
            ),
            models.CheckConstraint(
                condition=Q(status="suppressed", reason__gt="") | (~Q(status="suppressed") & Q(reason="")),
                name="suppressed_invitation_has_reason",
            ),
        ]
        indexes = [
            # Survey fatigue: a customer's latest invitations.
            models.Index(fields=["customer", "-created_at"], name="invitation_customer_idx"),
            # The sending task claims scheduled invitations whose time has come, in this order.
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="scheduled"), name="invitation_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} to {self.customer_id} ({self.status})"


class SavedMapping(models.Model):
    """A mapping of columns to fields saved by name, offered again for files with the same headers."""

    name = models.CharField(max_length=100, unique=True)
    header_key = models.CharField(max_length=64, db_index=True, help_text="csv_import.header_key of the headers.")
    mapping = models.JSONField(default=dict, help_text="API field -> CSV column.")
    date_order = models.CharField(max_length=12, choices=DATE_ORDER_CHOICES, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class DailyScoreCount(models.Model):
    """How many responses gave each score, per day, survey, channel and team: the dashboard's rollup.

    Counts per score are the most useful shape: NPS, the 0-10 distribution and the margins all
    derive from them. Kept equal to the raw responses by surveys/services/rollups.py at every
    write (ingestion, changed answers); ``manage.py rebuild_rollups`` recomputes it whole.
    The day is the submission's date in the site's time zone, as the NPS API groups it; the team
    is the slug of the team that handled the ticket the response answers (``Invitation.team``),
    empty when it answers none.
    """

    day = models.DateField()
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    team = models.CharField(max_length=80, blank=True, default="")
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    # Not a PositiveIntegerField: taking counts away upserts negative rows, and PostgreSQL checks
    # the row proposed for insertion before it finds the conflict that turns it into an update.
    responses = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "day", "channel", "team", "score"], name="daily_score_count_team_key"
            ),
            models.CheckConstraint(condition=Q(score__lte=10), name="daily_score_count_score_0_10"),
        ]
        indexes = [models.Index(fields=["day"], include=["score", "responses"], name="daily_score_count_day_idx")]

    def __str__(self) -> str:
        return f"{self.responses} x {self.score} on {self.day} ({self.survey_id}, {self.channel}, {self.team})"
