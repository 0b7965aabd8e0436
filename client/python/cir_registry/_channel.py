"""The channel arguments a Client's channel is made with: read-only retries and keepalive, as the
C++ client (client/client.cc) sets them."""

from __future__ import annotations

import json
from typing import List, Tuple, Union

# Replies of BatchResolve with 10,000 full records are a few MiB.
_MAX_RECEIVE_BYTES = 64 << 20
# The registry accepts keepalive pings every 10 seconds or more.
_SHORTEST_KEEPALIVE_SECONDS = 10.0

# The reads the channel retries on UNAVAILABLE. Writes never are: a write answered UNAVAILABLE with
# reason WRITE_OUTCOME_UNKNOWN may have taken effect, and a retry hidden in the channel would
# answer with the next attempt's outcome instead. The caller sees the first answer and retries
# with the same ids, which is always safe.
_RETRIED_METHODS = [
    {"service": "cir.v1.ChildRegistry", "method": "Resolve"},
    {"service": "cir.v1.ChildRegistry", "method": "BatchResolve"},
    {"service": "cir.v1.ChildRegistry", "method": "DescribeRegistry"},
    {"service": "cir.v1.ChildrenFeed", "method": "ListEvents"},
    {"service": "grpc.health.v1.Health"},
]

ChannelOption = Tuple[str, Union[str, int]]


def service_config(max_attempts: int) -> str:
    """gRPC's service config: reads retried on UNAVAILABLE up to `max_attempts` (at most 5, the
    first included) with exponential backoff from 0.1 to 2 seconds, throttled while most calls
    fail; no retries for `max_attempts` 1 or less."""
    if max_attempts <= 1:
        return json.dumps({"methodConfig": []})
    return json.dumps({
        "methodConfig": [{
            "name": _RETRIED_METHODS,
            "retryPolicy": {
                "maxAttempts": min(max_attempts, 5),
                "initialBackoff": "0.1s",
                "maxBackoff": "2s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }],
        "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
    })


def channel_options(max_attempts: int, keepalive_time: float,
                    keepalive_timeout: float) -> List[ChannelOption]:
    """The channel's arguments. Keepalive pings every `keepalive_time` seconds (never more often
    than every 10), calls in flight or not, closing the connection when no answer comes within
    `keepalive_timeout`; `keepalive_time` 0 turns keepalive off."""
    options: List[ChannelOption] = [
        ("grpc.service_config", service_config(max_attempts)),
        ("grpc.enable_retries", 1),
        ("grpc.max_receive_message_length", _MAX_RECEIVE_BYTES),
        # Connections of its own, not shared with other Clients of the process, so that several
        # Clients spread load over several connections.
        ("grpc.use_local_subchannel_pool", 1),
    ]
    if keepalive_time > 0:
        every = max(keepalive_time, _SHORTEST_KEEPALIVE_SECONDS)
        options += [
            ("grpc.keepalive_time_ms", int(every * 1000)),
            ("grpc.keepalive_timeout_ms", int(keepalive_timeout * 1000)),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        ]
    return options
