"""Self-signed certificates imported into moto's ACM, for HTTPS listeners in tests."""

from providers.aws.seed import import_certificates, self_signed

__all__ = ["import_certificates", "self_signed"]
