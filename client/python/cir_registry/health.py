"""The standard gRPC health check's answer (grpc.health.v1.HealthCheckResponse.ServingStatus)."""

from __future__ import annotations

import enum

# The method, called with the package's own wire-identical messages
# (client/wire/wire_messages.proto), so that the package carries no copy of gRPC's health proto.
HEALTH_CHECK_METHOD = "/grpc.health.v1.Health/Check"


class ServingStatus(enum.Enum):
    """Whether the server (or one of its services) is serving."""

    UNKNOWN = 0
    SERVING = 1
    # The server is stopping (it drains before it stops taking calls), or cannot write.
    NOT_SERVING = 2
    # The server does not know the service asked about.
    SERVICE_UNKNOWN = 3
