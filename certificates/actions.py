"""The `{% may %}` checks of the certificate services (registered from CertificatesConfig.ready(); see mls.actions)."""

from mls.actions import register

from . import services

register("certificate.revoke", services.check_revoke)
