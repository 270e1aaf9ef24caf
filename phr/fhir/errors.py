"""Errors of the FHIR client. Messages name what failed, never a token or a health datum."""

from __future__ import annotations


class FhirClientError(Exception):
    """Talking to a hospital's FHIR server or its authorisation server failed."""


class FhirResponseError(FhirClientError):
    """The server answered with an HTTP error that retrying will not fix."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class FhirUnavailable(FhirClientError):
    """The server did not answer usefully within the retry budget (timeouts, 429, 5xx, dropped connections)."""


class AuthorisationFailed(FhirClientError):
    """A token could not be obtained or refreshed; a patient-authorised connection needs the person again."""


class LaunchRefused(FhirClientError):
    """A SMART launch callback that must not be honoured (state mismatch, missing verifier, error from the server)."""


class DestinationRefused(FhirClientError):
    """The outbound policy refused a request or its answer (``phr.outbound``); nothing was sent, or the answer
    was cut. ``code`` names the rule (scheme, private, redirect, too-large, ...)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code
