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
