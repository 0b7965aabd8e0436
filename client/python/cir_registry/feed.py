"""A Subscribe stream read as a Python iterator."""

from __future__ import annotations

from types import TracebackType
from typing import Iterator, Optional, Type

import grpc

from cir_registry import v1
from cir_registry.errors import error_from_rpc


class FeedSubscription(Iterator[v1.SubscribeResponse]):
    """The messages of one Subscribe stream, in order: events, or heartbeats when there are none.

    Iterating blocks for the next message. The iteration ends when the stream ends normally or is
    cancelled (``cancel()``, or leaving a ``with`` block); a stream the registry ends otherwise
    raises a RegistryError: OutOfRange (reason CURSOR_OUT_OF_RANGE) for a cursor it can no longer
    serve, Unavailable when it stops (SERVER_STOPPING) or the connection is lost. Store each
    event's cursor once processed, and subscribe again from the last one::

        with registry.subscribe(v1.SubscribeRequest(local_authorities=["938"],
                                                    from_beginning=True)) as feed:
            for message in feed:
                for event in message.events:
                    process(event)
                    save(event.cursor)

    One reader at a time; ``cancel()`` may be called from any thread.
    """

    def __init__(self, call: grpc.Call) -> None:
        self._call = call
        self._cancelled = False

    def __iter__(self) -> FeedSubscription:
        return self

    def __next__(self) -> v1.SubscribeResponse:
        try:
            return next(self._call)
        except grpc.RpcError as error:
            if self._cancelled and self._call.code() == grpc.StatusCode.CANCELLED:
                raise StopIteration from None
            raise error_from_rpc(error) from error

    def cancel(self) -> None:
        """Ends the stream from the subscriber's side: iteration stops."""
        self._cancelled = True
        self._call.cancel()

    def __enter__(self) -> FeedSubscription:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.cancel()
