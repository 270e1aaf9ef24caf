"""Serve the demo hospitals' FHIR servers (sekmet-fhir), loaded with the connected demo citizens' records."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from phr.demo.fhir import HOSPITALS, serve


class Command(BaseCommand):
    help = "Run the demo hospitals' FHIR R4 servers on loopback (needs the development requirements)."

    def handle(self, *args: Any, **options: Any) -> None:
        ports = ", ".join(str(h.port) for h in HOSPITALS)
        self.stdout.write(f"demo FHIR servers on 127.0.0.1 ports {ports}")
        serve()
