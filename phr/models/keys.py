from __future__ import annotations

import uuid

from django.db import models


class DataKey(models.Model):
    """A data-encryption key, stored wrapped by a key-encryption key: one per person, or a labelled system key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.OneToOneField(
        "phr.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="data_key"
    )
    label = models.CharField(max_length=32, null=True, blank=True, unique=True, help_text="system keys only")
    kek_id = models.CharField(max_length=32)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kek_id"], name="datakey_kek_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=True) ^ models.Q(label__isnull=True),
                name="datakey_person_xor_label",
            )
        ]

    def __str__(self) -> str:
        return f"DataKey {self.id} ({self.kek_id})"
