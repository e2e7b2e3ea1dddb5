"""HTTP routes, one mixin per area; GatewayService inherits them all (nameko collects the
entrypoints of inherited methods)."""
