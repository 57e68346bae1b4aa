"""The grid monitor and demand response (issue 16): readings from a region's source, its health state,
and the opt-in policy that limits chargers through OCPP smart charging while the grid is under stress."""
