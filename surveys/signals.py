"""The intake app's extension points.

``responses_ingested`` is sent once per ingested batch (a single API response, a bulk request,
a CSV file chunk, a public survey answer), after the transaction that stored it commits, with
``response_ids``: the ids of the responses that batch created (duplicates are not included).
Receivers must be set-based: they get the whole batch, never one signal per row. The follow-up
app opens cases from it; nothing in this app depends on who listens.
"""

from __future__ import annotations

from django.dispatch import Signal

responses_ingested = Signal()

# Sent by an import, inside the transaction of each chunk of rows, with ``response_tags``: the
# tags the old tool had put on each response the chunk created ({response id: (tag, ...)}),
# for the follow-up app to turn those naming a root cause into codes.
responses_tagged = Signal()

# Sent by the public survey page with ``survey`` and ``response_id`` (None before an answer):
# each receiver answers with the topics [(slug, name, chosen), ...] a customer may say their
# answer was about, ``chosen`` marking the one they chose for that response (the follow-up app
# offers its active root-cause categories), so this app knows no taxonomy.
survey_topics = Signal()

# Sent inside the transaction that stores a public survey answer, with ``response_id`` and
# ``topic``: the slug the customer chose among ``survey_topics`` ("" when they chose none), for
# the follow-up app to keep as the customer's own coding.
response_topic_chosen = Signal()
