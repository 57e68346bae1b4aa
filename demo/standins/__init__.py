"""Stand-in payment gateways for tests and the demo: small HTTP servers that speak each gateway's documented
request shapes, signatures and webhooks, and can be told to fail. Nothing in the product imports them."""
