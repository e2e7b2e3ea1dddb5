"""What tests share, so that no test module imports another: the infrastructure (broker,
databases, the whole system in-process), builders (the small districts and worlds), and one fake
per port. Fixtures defined here are exposed by the conftest of each layer that uses them."""
