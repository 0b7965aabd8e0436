"""The registry's refusals as Python exceptions.

Every call the registry refuses raises a RegistryError (or the subclass for its gRPC code) carrying
what the registry sent: the gRPC code, the message (for people; it never repeats a child's
details) and the machine-readable reason, a ``cir.v1.ErrorReason`` name such as
``"NHS_NUMBER_HELD_BY_ANOTHER_CHILD"``, read from the google.rpc.ErrorInfo in the status details
(the ``grpc-status-details-bin`` trailer)::

    try:
        registry.resolve("999 000 0018")
    except cir_registry.NotFound as refusal:
        assert refusal.reason == "IDENTIFIER_NOT_FOUND"

A call that never reached the registry (no connection, the deadline passed on the way) has no
reason: ``reason`` is None.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional, Tuple, Union

import grpc
from google.protobuf.message import DecodeError

from cir_registry._generated import wire_messages_pb2 as wire

# The trailer holding a failed call's google.rpc.Status, and the type URL of the Any in its details
# that holds the registry's google.rpc.ErrorInfo.
_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_ERROR_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ErrorInfo"


class RegistryError(Exception):
    """A call the registry refused, or that failed on its way to or from it.

    Attributes:
        code: the gRPC status code (grpc.StatusCode).
        message: the status message, for people.
        reason: the cir.v1.ErrorReason name the registry sent (see ErrorReason at the end of
            proto/cir/v1/registry.proto), or None when the status carries none. A reason newer
            than this package is given as sent.
        metadata: the facts the registry gave with the reason, e.g. ``{"field": "nhs_number"}``
            for FIELD_INVALID; empty when none. Never a child's details.
        domain: the ErrorInfo's domain (``"cir.registry.england"``), or None.
    """

    def __init__(self, code: grpc.StatusCode, message: str, reason: Optional[str] = None,
                 metadata: Optional[Mapping[str, str]] = None,
                 domain: Optional[str] = None) -> None:
        super().__init__(code, message, reason)
        self.code = code
        self.message = message
        self.reason = reason
        self.metadata: Mapping[str, str] = dict(metadata or {})
        self.domain = domain

    def __str__(self) -> str:
        # As the cir tool prints a refusal: "INVALID_ARGUMENT [FIELD_INVALID]: message".
        reason = f" [{self.reason}]" if self.reason else ""
        return f"{self.code.name}{reason}: {self.message}"


class InvalidArgument(RegistryError):
    """INVALID_ARGUMENT: the request can never be valid as sent; ``metadata["field"]`` often names
    the field."""


class NotFound(RegistryError):
    """NOT_FOUND: no child has the identifier (or none the caller may reach)."""


class AlreadyExists(RegistryError):
    """ALREADY_EXISTS: an identifier or notification belongs to another child, which is not
    disclosed."""


class FailedPrecondition(RegistryError):
    """FAILED_PRECONDITION: the record must change first (the reason says how)."""


class PermissionDenied(RegistryError):
    """PERMISSION_DENIED: the agency's roles do not allow the call."""


class Unauthenticated(RegistryError):
    """UNAUTHENTICATED: the certificate names no agency, or a person's call names no end user."""


class ResourceExhausted(RegistryError):
    """RESOURCE_EXHAUSTED: the request is larger than the method accepts."""


class OutOfRange(RegistryError):
    """OUT_OF_RANGE: e.g. a feed cursor the registry can no longer serve."""


class Unavailable(RegistryError):
    """UNAVAILABLE: the registry was not reached or could not act just now. For a write, reason
    WRITE_OUTCOME_UNKNOWN means it may have taken effect: retry with the same ids."""


class DeadlineExceeded(RegistryError):
    """DEADLINE_EXCEEDED: the call's timeout passed before its answer came."""


_ERROR_CLASSES = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRange,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
}

Trailers = Iterable[Tuple[str, Union[str, bytes]]]


def error_info_of(trailers: Optional[Trailers]) -> Optional[wire.ErrorInfo]:
    """The google.rpc.ErrorInfo in a failed call's status details, if the trailers carry one."""
    for key, value in trailers or ():
        if key != _STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        status = wire.RichStatus()
        try:
            status.ParseFromString(value)
        except DecodeError:
            return None
        for detail in status.details:
            if detail.type_url != _ERROR_INFO_TYPE_URL:
                continue
            info = wire.ErrorInfo()
            try:
                info.ParseFromString(detail.value)
            except DecodeError:
                return None
            return info
    return None


def error_from_status(code: grpc.StatusCode, message: str,
                      trailers: Optional[Trailers]) -> RegistryError:
    """The exception for a failed call's code, message and trailing metadata."""
    info = error_info_of(trailers)
    error_class = _ERROR_CLASSES.get(code, RegistryError)
    if info is None:
        return error_class(code, message)
    return error_class(code, message, reason=info.reason or None, metadata=dict(info.metadata),
                       domain=info.domain or None)


def error_from_rpc(error: grpc.RpcError) -> RegistryError:
    """The exception for an error raised by a gRPC call (a grpc.Call as well as an RpcError)."""
    call = error if isinstance(error, grpc.Call) else None
    if call is None:
        return RegistryError(grpc.StatusCode.UNKNOWN, str(error))
    return error_from_status(call.code(), call.details() or "", call.trailing_metadata())
