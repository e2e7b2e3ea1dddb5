"""The command schemas the gateway documents (OpenAPI) and checks, and a service validates again
on its RPC: what scheduling and enrollment accept, one module each. marshmallow, unknown fields
refused. A service's RPC stays the authority; the gateway's use only documents and fails early."""
