"""Domain errors raised by phr services; views turn them into messages, the API into problems."""


class PartyError(Exception):
    """A write to parties was refused; the message is safe to show to the user."""


class IdentifierAlreadyLinked(PartyError):
    """The identifier is already linked to a person in that system."""


class ProxyNotAllowed(PartyError):
    """The proxy grant breaks a rule (period, legal basis, self-proxy)."""
