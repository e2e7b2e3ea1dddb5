"""Reporting's own refusals, as kit DomainErrors so that they cross RPC and become problems."""

from nameko.exceptions import deserialize_to_instance

from services.kit.errors import DomainError


class Rebuilding(DomainError):
    """A report asked for while `peixun replay` rebuilds the read models."""

    status = 503


class Tampered(DomainError):
    """A stored file or filed version whose bytes no longer match the sha256 kept for them."""

    status = 500


for _error in (Rebuilding, Tampered):
    deserialize_to_instance(_error)
