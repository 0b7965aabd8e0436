"""The Child Identifier Registry's Python client.

::

    import cir_registry
    from cir_registry import v1

    with cir_registry.Client("registry.example:443", ca_file="registry-ca.pem",
                             cert_file="agency.pem", key_file="agency.key",
                             end_user="smartcard-5551234",
                             purpose_of_use="DIRECT_CARE") as registry:
        try:
            print(registry.resolve("999 000 0018").record.child_id_display)
        except cir_registry.NotFound as refusal:
            print(refusal.reason)   # "IDENTIFIER_NOT_FOUND"

``cir_registry.v1`` holds the contract's messages (proto/cir/v1/registry.proto); Client, the calls;
RegistryError and its subclasses, the registry's refusals with their machine-readable reasons.
"""

from cir_registry import v1
from cir_registry._version import __version__
from cir_registry.client import Client
from cir_registry.errors import (AlreadyExists, DeadlineExceeded, FailedPrecondition,
                                 InvalidArgument, NotFound, OutOfRange, PermissionDenied,
                                 RegistryError, ResourceExhausted, Unauthenticated, Unavailable)
from cir_registry.feed import FeedSubscription
from cir_registry.health import ServingStatus
from cir_registry.tls import mutual_tls_from_files

__all__ = [
    "AlreadyExists",
    "Client",
    "DeadlineExceeded",
    "FailedPrecondition",
    "FeedSubscription",
    "InvalidArgument",
    "NotFound",
    "OutOfRange",
    "PermissionDenied",
    "RegistryError",
    "ResourceExhausted",
    "ServingStatus",
    "Unauthenticated",
    "Unavailable",
    "__version__",
    "mutual_tls_from_files",
    "v1",
]
