"""What one ingest did: counts and the entries it refused or skipped (type, id, reason — never values)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

# A report keeps at most this many rejected and skipped entries; the counts are always complete.
MAX_LISTED = 1000


_POSITION = re.compile(r"^(entry|line) (\d+)(.*)$")


def position_label(position: str) -> str:
    """``entry 3`` / ``line 7`` / ``file`` from the reader, in the active language."""
    if position == "file":
        return _("the file")
    match = _POSITION.match(position)
    if match is None:
        return position
    number = int(match.group(2))
    label = (
        _("entry %(number)d") % {"number": number}
        if match.group(1) == "entry"
        else _("line %(number)d") % {"number": number}
    )
    return label + match.group(3)


@dataclass
class IngestReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    rejected_entries: list[dict[str, Any]] = field(default_factory=list)
    skipped_entries: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.created + self.updated + self.unchanged

    def reject(self, *, resource_type: str, resource_id: str, position: str, reason: str, errors: Any = ()) -> None:
        self.rejected += 1
        if len(self.rejected_entries) < MAX_LISTED:
            entry: dict[str, Any] = {
                "resource_type": resource_type,
                "id": resource_id,
                "position": position_label(position),
                "reason": reason,
            }
            if errors:
                entry["errors"] = list(errors)
            self.rejected_entries.append(entry)

    def skip(self, *, resource_type: str, resource_id: str, position: str, reason: str) -> None:
        self.skipped += 1
        if len(self.skipped_entries) < MAX_LISTED:
            self.skipped_entries.append(
                {
                    "resource_type": resource_type,
                    "id": resource_id,
                    "position": position_label(position),
                    "reason": reason,
                }
            )
