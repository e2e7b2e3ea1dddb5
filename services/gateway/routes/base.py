"""What every route mixin uses: the RPC proxies and the caller's principal."""

from services.kit import ServiceBase, ServiceRpc

from .. import audit, auth

WRITERS = ("district_admin",)


class RoutesBase(ServiceBase):
    scheduling = ServiceRpc("scheduling")
    enrollment = ServiceRpc("enrollment")
    reporting = ServiceRpc("reporting")

    def principal(self, request) -> auth.Principal:
        principal = auth.authenticate(self.db, request.headers.get("Authorization"))
        audit.note(request, principal)
        return principal
