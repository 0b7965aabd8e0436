"""How a refusal's reason is read from the status details, without a server: trailers made as the
registry sends them (a google.rpc.Status holding a google.rpc.ErrorInfo, written with the
package's wire-identical messages)."""

import unittest

import grpc

import cir_registry
from cir_registry._generated import wire_messages_pb2 as wire
from cir_registry.errors import error_from_status

_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def details_trailer(*details: wire.AnyDetail) -> list:
    status = wire.RichStatus(code=3, message="refused", details=list(details))
    return [("other-key", "text"), ("grpc-status-details-bin", status.SerializeToString())]


def error_info(reason: str, **metadata: str) -> wire.AnyDetail:
    info = wire.ErrorInfo(reason=reason, domain="cir.registry.england", metadata=metadata)
    return wire.AnyDetail(type_url=_ERROR_INFO, value=info.SerializeToString())


class ErrorsTest(unittest.TestCase):
    def test_the_reason_and_its_metadata_are_read_from_the_status_details(self) -> None:
        error = error_from_status(grpc.StatusCode.INVALID_ARGUMENT, "bad",
                                  details_trailer(error_info("FIELD_INVALID", field="postcode")))
        self.assertIsInstance(error, cir_registry.InvalidArgument)
        self.assertEqual(error.reason, "FIELD_INVALID")
        self.assertEqual(error.metadata, {"field": "postcode"})
        self.assertEqual(error.domain, "cir.registry.england")
        self.assertEqual(error.message, "bad")

    def test_an_error_info_after_other_details_is_found(self) -> None:
        other = wire.AnyDetail(type_url="type.googleapis.com/google.rpc.DebugInfo", value=b"\x0a")
        error = error_from_status(grpc.StatusCode.NOT_FOUND, "none",
                                  details_trailer(other, error_info("IDENTIFIER_NOT_FOUND")))
        self.assertEqual(error.reason, "IDENTIFIER_NOT_FOUND")

    def test_a_reason_newer_than_the_package_is_given_as_sent(self) -> None:
        error = error_from_status(grpc.StatusCode.FAILED_PRECONDITION, "later",
                                  details_trailer(error_info("A_REASON_FROM_THE_FUTURE")))
        self.assertEqual(error.reason, "A_REASON_FROM_THE_FUTURE")

    def test_a_status_without_details_has_no_reason(self) -> None:
        error = error_from_status(grpc.StatusCode.UNAVAILABLE, "unreachable", [])
        self.assertIsInstance(error, cir_registry.Unavailable)
        self.assertIsNone(error.reason)
        self.assertEqual(error.metadata, {})
        self.assertEqual(str(error), "UNAVAILABLE: unreachable")

    def test_details_that_do_not_parse_give_no_reason(self) -> None:
        error = error_from_status(grpc.StatusCode.INTERNAL, "odd",
                                  [("grpc-status-details-bin", b"\xff\xff\xff")])
        self.assertIsInstance(error, cir_registry.RegistryError)
        self.assertIsNone(error.reason)

    def test_each_common_code_has_an_exception_class_of_its_own(self) -> None:
        classes = {
            grpc.StatusCode.INVALID_ARGUMENT: cir_registry.InvalidArgument,
            grpc.StatusCode.NOT_FOUND: cir_registry.NotFound,
            grpc.StatusCode.ALREADY_EXISTS: cir_registry.AlreadyExists,
            grpc.StatusCode.FAILED_PRECONDITION: cir_registry.FailedPrecondition,
            grpc.StatusCode.PERMISSION_DENIED: cir_registry.PermissionDenied,
            grpc.StatusCode.UNAUTHENTICATED: cir_registry.Unauthenticated,
            grpc.StatusCode.RESOURCE_EXHAUSTED: cir_registry.ResourceExhausted,
            grpc.StatusCode.OUT_OF_RANGE: cir_registry.OutOfRange,
            grpc.StatusCode.UNAVAILABLE: cir_registry.Unavailable,
            grpc.StatusCode.DEADLINE_EXCEEDED: cir_registry.DeadlineExceeded,
        }
        for code, error_class in classes.items():
            with self.subTest(code=code):
                self.assertIs(type(error_from_status(code, "", None)), error_class)
        self.assertIs(type(error_from_status(grpc.StatusCode.INTERNAL, "", None)),
                      cir_registry.RegistryError)


if __name__ == "__main__":
    unittest.main()
