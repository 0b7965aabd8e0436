"""The registry's client: one object per registry, its calls in Python's habits."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Callable, Iterable, List, Optional, Tuple, Type, TypeVar, Union

import grpc

from cir_registry import v1
from cir_registry._channel import channel_options
from cir_registry._generated import registry_pb2_grpc
from cir_registry._generated import wire_messages_pb2 as wire
from cir_registry.errors import error_from_rpc
from cir_registry.feed import FeedSubscription
from cir_registry.health import HEALTH_CHECK_METHOD, ServingStatus
from cir_registry.tls import PathLike, mutual_tls_from_files

Response = TypeVar("Response")

# The metadata naming the person a call is made for, and why.
_END_USER_KEY = "x-cir-end-user"
_PURPOSE_OF_USE_KEY = "x-cir-purpose-of-use"


class Client:
    """A connection to the registry: every call of its services, as blocking methods.

    ::

        with cir_registry.Client("registry.example:443", ca_file="registry-ca.pem",
                                 cert_file="agency.pem", key_file="agency.key",
                                 end_user="smartcard-5551234",
                                 purpose_of_use="DIRECT_CARE") as registry:
            child = registry.resolve("999 000 0018")
            print(child.record.child_id_display)

    Each method takes the request message of its RPC (cir_registry.v1, documented field by field
    in proto/cir/v1/registry.proto) and returns the response message, or raises a RegistryError
    (its subclass for the code: NotFound, InvalidArgument, ...) carrying the registry's reason.

    Every method also takes, keyword only: ``timeout`` (seconds; the client's default if None),
    ``wait_for_ready`` (the client's if None), and ``end_user`` and ``purpose_of_use`` (the
    client's if None).

    Retries: reads (resolve, batch_resolve, describe_registry, list_events, check_health) are
    retried by the channel on UNAVAILABLE, up to ``max_attempts`` with exponential backoff, and
    throttled while most calls fail. Writes are never retried for you: retry them with the same
    notification or request id, which is always safe.

    A Client is safe to use from many threads at once: share one per process and registry. Close
    it (or leave its ``with`` block) to close its connections; calls then raise ValueError.

    Args:
        target: the registry's address, host:port.
        ca_file, cert_file, key_file: the agency's mutual TLS, PEM files (see
            mutual_tls_from_files). Required unless insecure_plaintext.
        end_user, purpose_of_use: the person the calls are made for, and why (a
            cir.v1.PurposeOfUse name without its prefix, e.g. "DIRECT_CARE"), sent with every
            call as the metadata x-cir-end-user and x-cir-purpose-of-use. Required by the roles
            that act for a person. Default: none.
        insecure_plaintext: no TLS, which only a registry started for tests on the same machine
            answers. Default: False.
        timeout: the deadline of a call made without its own, in seconds. Default: 10.
        max_attempts: attempts per read, the first included (1-5; 1 turns retries off).
            Default: 4.
        wait_for_ready: whether a call made while the registry cannot be reached waits for it
            until its deadline rather than failing at once with UNAVAILABLE: for batch jobs
            riding out a restart. Default: False.
        keepalive_time, keepalive_timeout: the connection is pinged every keepalive_time seconds
            (never under 10; 0 turns keepalive off) and closed if no answer comes within
            keepalive_timeout, so that a connection a firewall dropped silently is found before
            a call waits on it. Defaults: 30, 10.
    """

    def __init__(self, target: str, *, ca_file: Optional[PathLike] = None,
                 cert_file: Optional[PathLike] = None, key_file: Optional[PathLike] = None,
                 end_user: Optional[str] = None, purpose_of_use: Optional[str] = None,
                 insecure_plaintext: bool = False, timeout: float = 10.0, max_attempts: int = 4,
                 wait_for_ready: bool = False, keepalive_time: float = 30.0,
                 keepalive_timeout: float = 10.0) -> None:
        options = channel_options(max_attempts, keepalive_time, keepalive_timeout)
        if insecure_plaintext:
            if ca_file is not None or cert_file is not None or key_file is not None:
                raise ValueError("insecure_plaintext takes no TLS files")
            self._channel = grpc.insecure_channel(target, options=options)
        else:
            if ca_file is None or cert_file is None or key_file is None:
                raise ValueError("the registry answers over mutual TLS: give ca_file, cert_file "
                                 "and key_file (or insecure_plaintext for a test server)")
            credentials = mutual_tls_from_files(ca_file, cert_file, key_file)
            self._channel = grpc.secure_channel(target, credentials, options=options)
        self._timeout = timeout
        self._wait_for_ready = wait_for_ready
        self._end_user = end_user
        self._purpose_of_use = purpose_of_use
        self._registry = registry_pb2_grpc.ChildRegistryStub(self._channel)
        self._feed = registry_pb2_grpc.ChildrenFeedStub(self._channel)
        self._audit = registry_pb2_grpc.AuditLogStub(self._channel)
        self._admin = registry_pb2_grpc.RegistryAdminStub(self._channel)
        self._health = self._channel.unary_unary(
            HEALTH_CHECK_METHOD,
            request_serializer=wire.HealthCheckRequest.SerializeToString,
            response_deserializer=wire.HealthCheckResponse.FromString)
        self._closed = False

    # ---- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the channel: calls in flight are cancelled, later calls raise ValueError."""
        if not self._closed:
            self._closed = True
            self._channel.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.close()

    # ---- cir.v1.ChildRegistry ------------------------------------------------------------------

    def register_birth(self, request: v1.RegisterBirthRequest, *, timeout: Optional[float] = None,
                       wait_for_ready: Optional[bool] = None, end_user: Optional[str] = None,
                       purpose_of_use: Optional[str] = None) -> v1.RegisterBirthResponse:
        """Registers a birth notification; a retry with the same notifying system and
        notification id answers as the first call did."""
        return self._call(self._registry.RegisterBirth, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def register_births(self, request: Union[v1.RegisterBirthsRequest,
                                             Iterable[v1.RegisterBirthRequest]], *,
                        timeout: Optional[float] = None, wait_for_ready: Optional[bool] = None,
                        end_user: Optional[str] = None,
                        purpose_of_use: Optional[str] = None) -> v1.RegisterBirthsResponse:
        """Up to 10,000 births (4 MiB) in one call (an iterable of RegisterBirthRequest: answered
        with whole records), each with its own result in order: `registered` (as register_birth
        answers) or `refused` (code, reason, message, metadata). Never retried here: a call that
        raises Unavailable may be sent again as it was."""
        if not isinstance(request, v1.RegisterBirthsRequest):
            request = v1.RegisterBirthsRequest(births=list(request))
        return self._call(self._registry.RegisterBirths, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def resolve(self, request: Union[v1.ResolveRequest, str], *, timeout: Optional[float] = None,
                wait_for_ready: Optional[bool] = None, end_user: Optional[str] = None,
                purpose_of_use: Optional[str] = None) -> v1.ResolveResponse:
        """The child of a child identifier, NHS number or UPN (a string: its kind detected from
        its shape), current or former."""
        if isinstance(request, str):
            request = v1.ResolveRequest(identifier=request)
        return self._call(self._registry.Resolve, request, timeout, wait_for_ready, end_user,
                          purpose_of_use)

    def link_upn(self, request: v1.LinkUpnRequest, *, timeout: Optional[float] = None,
                 wait_for_ready: Optional[bool] = None, end_user: Optional[str] = None,
                 purpose_of_use: Optional[str] = None) -> v1.LinkUpnResponse:
        return self._call(self._registry.LinkUpn, request, timeout, wait_for_ready, end_user,
                          purpose_of_use)

    def link_nhs_number(self, request: v1.LinkNhsNumberRequest, *,
                        timeout: Optional[float] = None, wait_for_ready: Optional[bool] = None,
                        end_user: Optional[str] = None,
                        purpose_of_use: Optional[str] = None) -> v1.LinkNhsNumberResponse:
        return self._call(self._registry.LinkNhsNumber, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def batch_resolve(self, request: Union[v1.BatchResolveRequest, Iterable[str]], *,
                      timeout: Optional[float] = None, wait_for_ready: Optional[bool] = None,
                      end_user: Optional[str] = None,
                      purpose_of_use: Optional[str] = None) -> v1.BatchResolveResponse:
        """Up to 10,000 identifiers of any kind in one call (an iterable of strings: with the
        default view, identifiers only); one result per identifier, in order."""
        if not isinstance(request, v1.BatchResolveRequest):
            if isinstance(request, str):
                raise TypeError("batch_resolve takes a list of identifiers, not one string")
            request = v1.BatchResolveRequest(identifiers=list(request))
        return self._call(self._registry.BatchResolve, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def describe_registry(self, *, timeout: Optional[float] = None,
                          wait_for_ready: Optional[bool] = None, end_user: Optional[str] = None,
                          purpose_of_use: Optional[str] = None) -> v1.DescribeRegistryResponse:
        """Whether the registry is a test environment, and its limits."""
        return self._call(self._registry.DescribeRegistry, v1.DescribeRegistryRequest(), timeout,
                          wait_for_ready, end_user, purpose_of_use)

    # Life events (see "Life events" in the proto): each idempotent by its request_id, so a call
    # answered UNAVAILABLE may be retried with the same request as it is.

    def record_death(self, request: v1.RecordDeathRequest, *, timeout: Optional[float] = None,
                     wait_for_ready: Optional[bool] = None, end_user: Optional[str] = None,
                     purpose_of_use: Optional[str] = None) -> v1.RecordDeathResponse:
        return self._call(self._registry.RecordDeath, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def change_address(self, request: v1.ChangeAddressRequest, *,
                       timeout: Optional[float] = None, wait_for_ready: Optional[bool] = None,
                       end_user: Optional[str] = None,
                       purpose_of_use: Optional[str] = None) -> v1.ChangeAddressResponse:
        return self._call(self._registry.ChangeAddress, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def correct_details(self, request: v1.CorrectDetailsRequest, *,
                        timeout: Optional[float] = None, wait_for_ready: Optional[bool] = None,
                        end_user: Optional[str] = None,
                        purpose_of_use: Optional[str] = None) -> v1.CorrectDetailsResponse:
        return self._call(self._registry.CorrectDetails, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def supersede_nhs_number(self, request: v1.SupersedeNhsNumberRequest, *,
                             timeout: Optional[float] = None,
                             wait_for_ready: Optional[bool] = None,
                             end_user: Optional[str] = None,
                             purpose_of_use: Optional[str] = None,
                             ) -> v1.SupersedeNhsNumberResponse:
        return self._call(self._registry.SupersedeNhsNumber, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def merge_records(self, request: v1.MergeRecordsRequest, *, timeout: Optional[float] = None,
                      wait_for_ready: Optional[bool] = None, end_user: Optional[str] = None,
                      purpose_of_use: Optional[str] = None) -> v1.MergeRecordsResponse:
        return self._call(self._registry.MergeRecords, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def undo_merge(self, request: v1.UndoMergeRequest, *, timeout: Optional[float] = None,
                   wait_for_ready: Optional[bool] = None, end_user: Optional[str] = None,
                   purpose_of_use: Optional[str] = None) -> v1.UndoMergeResponse:
        return self._call(self._registry.UndoMerge, request, timeout, wait_for_ready, end_user,
                          purpose_of_use)

    def restrict_sharing(self, request: v1.RestrictSharingRequest, *,
                         timeout: Optional[float] = None, wait_for_ready: Optional[bool] = None,
                         end_user: Optional[str] = None,
                         purpose_of_use: Optional[str] = None) -> v1.RestrictSharingResponse:
        return self._call(self._registry.RestrictSharing, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    # ---- cir.v1.ChildrenFeed -------------------------------------------------------------------

    def subscribe(self, request: v1.SubscribeRequest, *, wait_for_ready: Optional[bool] = None,
                  end_user: Optional[str] = None,
                  purpose_of_use: Optional[str] = None) -> FeedSubscription:
        """Opens a stream of the requested areas' events, without a deadline: iterate over it
        (see FeedSubscription), and subscribe again from the last cursor processed."""
        call = self._feed.Subscribe(
            request, metadata=self._metadata(end_user, purpose_of_use),
            wait_for_ready=self._wait_for_ready if wait_for_ready is None else wait_for_ready)
        return FeedSubscription(call)

    def list_events(self, request: v1.ListEventsRequest, *, timeout: Optional[float] = None,
                    wait_for_ready: Optional[bool] = None, end_user: Optional[str] = None,
                    purpose_of_use: Optional[str] = None) -> v1.ListEventsResponse:
        """One page of an area's events."""
        return self._call(self._feed.ListEvents, request, timeout, wait_for_ready, end_user,
                          purpose_of_use)

    # ---- cir.v1.AuditLog, for auditors acting for a person (purpose_of_use "AUDIT") ------------

    def read_audit_entries(self, request: v1.ReadAuditEntriesRequest, *,
                           timeout: Optional[float] = None,
                           wait_for_ready: Optional[bool] = None, end_user: Optional[str] = None,
                           purpose_of_use: Optional[str] = None) -> v1.ReadAuditEntriesResponse:
        return self._call(self._audit.ReadEntries, request, timeout, wait_for_ready, end_user,
                          purpose_of_use)

    def list_audit_checkpoints(self, request: v1.ListCheckpointsRequest, *,
                               timeout: Optional[float] = None,
                               wait_for_ready: Optional[bool] = None,
                               end_user: Optional[str] = None,
                               purpose_of_use: Optional[str] = None,
                               ) -> v1.ListCheckpointsResponse:
        return self._call(self._audit.ListCheckpoints, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def prove_audit_consistency(self, request: v1.ProveConsistencyRequest, *,
                                timeout: Optional[float] = None,
                                wait_for_ready: Optional[bool] = None,
                                end_user: Optional[str] = None,
                                purpose_of_use: Optional[str] = None,
                                ) -> v1.ProveConsistencyResponse:
        return self._call(self._audit.ProveConsistency, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def get_access_report(self, request: v1.GetAccessReportRequest, *,
                          timeout: Optional[float] = None, wait_for_ready: Optional[bool] = None,
                          end_user: Optional[str] = None,
                          purpose_of_use: Optional[str] = None) -> v1.GetAccessReportResponse:
        """Who accessed one child, with the proofs that the audit log holds each entry."""
        return self._call(self._audit.GetAccessReport, request, timeout, wait_for_ready,
                          end_user, purpose_of_use)

    # ---- cir.v1.RegistryAdmin and health, for operators ----------------------------------------

    def back_up(self, *, timeout: Optional[float] = None, wait_for_ready: Optional[bool] = None,
                end_user: Optional[str] = None,
                purpose_of_use: Optional[str] = None) -> v1.BackUpResponse:
        """A verified backup of the store into the server's backup folder. It may take minutes:
        give it a timeout to match."""
        return self._call(self._admin.BackUp, v1.BackUpRequest(), timeout, wait_for_ready,
                          end_user, purpose_of_use)

    def check_health(self, service: str = "", *, timeout: Optional[float] = None,
                     wait_for_ready: Optional[bool] = None) -> ServingStatus:
        """The standard health check (grpc.health.v1.Health/Check) of the whole server, or of
        `service` (e.g. "cir.v1.ChildRegistry"). Raises RegistryError if the check itself fails
        (Unavailable when the server cannot be reached)."""
        response = self._call(self._health, wire.HealthCheckRequest(service=service), timeout,
                              wait_for_ready, None, None)
        return ServingStatus(response.status)

    # ---- one call ------------------------------------------------------------------------------

    def _metadata(self, end_user: Optional[str],
                  purpose_of_use: Optional[str]) -> List[Tuple[str, str]]:
        metadata = []
        end_user = self._end_user if end_user is None else end_user
        purpose_of_use = self._purpose_of_use if purpose_of_use is None else purpose_of_use
        if end_user:
            metadata.append((_END_USER_KEY, end_user))
        if purpose_of_use:
            metadata.append((_PURPOSE_OF_USE_KEY, purpose_of_use))
        return metadata

    def _call(self, method: Callable[..., Response], request: Any, timeout: Optional[float],
              wait_for_ready: Optional[bool], end_user: Optional[str],
              purpose_of_use: Optional[str]) -> Response:
        try:
            return method(
                request, timeout=self._timeout if timeout is None else timeout,
                metadata=self._metadata(end_user, purpose_of_use),
                wait_for_ready=self._wait_for_ready if wait_for_ready is None else wait_for_ready)
        except grpc.RpcError as error:
            raise error_from_rpc(error) from error
