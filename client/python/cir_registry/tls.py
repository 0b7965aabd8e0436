"""Mutual TLS from an agency's files."""

from __future__ import annotations

import os
from typing import Union

import grpc

PathLike = Union[str, "os.PathLike[str]"]


def mutual_tls_from_files(ca_file: PathLike, cert_file: PathLike,
                          key_file: PathLike) -> grpc.ChannelCredentials:
    """Channel credentials for the registry over mutual TLS, read from PEM files: the CA bundle
    that issued the registry's certificate, the agency's certificate (chain), which names the
    agency by its URI SAN, and its private key. Raises OSError (FileNotFoundError,
    PermissionError) naming a file that cannot be read."""
    with open(ca_file, "rb") as ca, open(cert_file, "rb") as cert, open(key_file, "rb") as key:
        return grpc.ssl_channel_credentials(root_certificates=ca.read(), private_key=key.read(),
                                            certificate_chain=cert.read())
