"""The API's own description: OpenAPI at /api/v1/openapi.json and a Swagger UI page."""

import mimetypes
from pathlib import Path

import swagger_ui_bundle
from werkzeug.wrappers import Response

from services.kit.errors import NotFound

from .. import openapi
from ..http import http, json_response

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
DOCS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>peixun API</title>
<link rel="stylesheet" href="/api/v1/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/v1/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>
"""


class DocsRoutes:
    _spec = None

    @http("GET", "/api/v1/openapi.json", public=True, tag="docs")
    def get_openapi(self, request):
        """The OpenAPI 3 document of this API (no token needed)."""
        if DocsRoutes._spec is None:
            DocsRoutes._spec = openapi.build(type(self))
        return json_response(DocsRoutes._spec)

    @http("GET", "/api/v1/docs", public=True, tag="docs",
          produces={"text/html": {"type": "string"}})
    def get_docs(self, request):
        """The API documentation page (Swagger UI)."""
        return Response(DOCS_PAGE, mimetype="text/html")

    @http("GET", "/api/v1/docs/static/<string:name>", public=True, tag="docs",
          produces={"application/octet-stream": {"type": "string"}})
    def get_docs_static(self, request, name):
        """Swagger UI's own files, served from the installed package (no internet needed)."""
        path = SWAGGER_DIR / name
        if "/" in name or not path.is_file():
            raise NotFound(f"no file {name}")
        return Response(path.read_bytes(),
                        mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream")
