"""Train the suggestion classifier now, in this process, and say how it did on the held-out comments."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from followups.services.suggestions import suggestion_model_train


class Command(BaseCommand):
    help = "Train the root-cause suggestion classifier on every coded comment and store it as the newest version."

    def handle(self, *args, **options) -> None:
        model = suggestion_model_train()
        if model is None:
            self.stdout.write("not trained: fewer than two causes have enough coded comments")
            return
        macro = model.metrics["macro"]
        self.stdout.write(
            f"version {model.version} trained on {model.training_size} coded comments, {len(model.causes)} causes; "
            f"held out {model.metrics['held_out']}: classifier precision {macro['classifier']['precision']} "
            f"recall {macro['classifier']['recall']}, keywords precision {macro['keywords']['precision']} "
            f"recall {macro['keywords']['recall']}"
        )
