"""The Python client against a real cir-server (plaintext test access, one agency with every
role), each test with children of its own."""

import unittest

import grpc

import cir_registry
from cir_registry import v1
from fictional_children import fictional_birth, fictional_nhs_number, invalid_nhs_number
from registry_server import TEST_END_USER, TEST_PURPOSE, RegistryServer


class ClientTest(unittest.TestCase):
    server: RegistryServer

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = RegistryServer.plaintext()
        cls.server.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()

    def setUp(self) -> None:
        self.registry = cir_registry.Client(self.server.target, insecure_plaintext=True,
                                            end_user=TEST_END_USER, purpose_of_use=TEST_PURPOSE)
        self.addCleanup(self.registry.close)

    def test_a_registered_child_resolves_by_its_nhs_number_and_by_its_identifier(self) -> None:
        nhs_number = fictional_nhs_number(1)
        registered = self.registry.register_birth(fictional_birth("py-round-trip", nhs_number))
        self.assertTrue(registered.created)

        by_nhs_number = self.registry.resolve(nhs_number)
        self.assertEqual(by_nhs_number.record.child_id, registered.record.child_id)
        self.assertEqual(by_nhs_number.matched_kind, v1.IDENTIFIER_KIND_NHS_NUMBER)
        self.assertEqual(by_nhs_number.record.given_name, "Ada")

        by_identifier = self.registry.resolve(
            v1.ResolveRequest(identifier=registered.record.child_id_display))
        self.assertEqual(by_identifier.record.nhs_number, nhs_number)

    def test_a_retried_registration_answers_as_the_first_did(self) -> None:
        birth = fictional_birth("py-retried", fictional_nhs_number(2))
        first = self.registry.register_birth(birth)
        again = self.registry.register_birth(birth)
        self.assertEqual(again.record.child_id, first.record.child_id)
        self.assertTrue(again.created)

    def test_an_invalid_nhs_number_is_refused_with_its_code_reason_and_field(self) -> None:
        birth = fictional_birth("py-invalid", invalid_nhs_number(3))
        with self.assertRaises(cir_registry.InvalidArgument) as refused:
            self.registry.register_birth(birth)
        self.assertEqual(refused.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(refused.exception.reason, "FIELD_INVALID")
        self.assertEqual(refused.exception.metadata.get("field"), "nhs_number")
        self.assertEqual(refused.exception.domain, "cir.registry.england")
        self.assertTrue(str(refused.exception).startswith("INVALID_ARGUMENT [FIELD_INVALID]: "))

    def test_births_registered_in_bulk_each_have_their_own_result_in_order(self) -> None:
        births = [fictional_birth("py-bulk-1", fictional_nhs_number(20)),
                  fictional_birth("py-bulk-2", invalid_nhs_number(21)),
                  fictional_birth("py-bulk-3", fictional_nhs_number(22))]
        answer = self.registry.register_births(births)
        self.assertEqual([result.WhichOneof("outcome") for result in answer.results],
                         ["registered", "refused", "registered"])
        self.assertEqual(answer.registered_count, 2)
        refused = answer.results[1].refused
        self.assertEqual(refused.code, grpc.StatusCode.INVALID_ARGUMENT.value[0])
        self.assertEqual(v1.ErrorReason.Name(refused.reason), "FIELD_INVALID")
        self.assertEqual(refused.metadata["field"], "nhs_number")
        self.assertEqual(self.registry.resolve(fictional_nhs_number(22)).record.child_id,
                         answer.results[2].registered.record.child_id)

    def test_an_nhs_number_of_no_child_is_not_found(self) -> None:
        with self.assertRaises(cir_registry.NotFound) as refused:
            self.registry.resolve(fictional_nhs_number(4))
        self.assertEqual(refused.exception.code, grpc.StatusCode.NOT_FOUND)
        self.assertEqual(refused.exception.reason, "IDENTIFIER_NOT_FOUND")
        self.assertIsInstance(refused.exception, cir_registry.RegistryError)

    def test_a_call_for_a_person_without_an_end_user_is_refused(self) -> None:
        with self.assertRaises(cir_registry.Unauthenticated) as refused:
            self.registry.resolve(fictional_nhs_number(5), end_user="")
        self.assertEqual(refused.exception.reason, "END_USER_REQUIRED")

    def test_a_batch_answers_each_identifier_in_order(self) -> None:
        nhs_number = fictional_nhs_number(6)
        registered = self.registry.register_birth(fictional_birth("py-batch", nhs_number))
        batch = self.registry.batch_resolve([nhs_number, fictional_nhs_number(7), "not an id"])
        outcomes = [result.outcome for result in batch.results]
        self.assertEqual(outcomes, [v1.BatchResolveResult.OUTCOME_FOUND,
                                    v1.BatchResolveResult.OUTCOME_NOT_FOUND,
                                    v1.BatchResolveResult.OUTCOME_INVALID])
        self.assertEqual(batch.results[0].record.child_id, registered.record.child_id)
        self.assertNotEqual(batch.results[2].error, "")

    def test_a_child_who_moves_resolves_to_the_new_address(self) -> None:
        registered = self.registry.register_birth(
            fictional_birth("py-move", fictional_nhs_number(8)))
        moved = self.registry.change_address(v1.ChangeAddressRequest(
            request_id="py-move-1", child_id=registered.record.child_id,
            address_lines=["2 Low Road", "Chichester"], postcode="PO19 1AB",
            local_authority="938", recorded_by="py-test"))
        self.assertTrue(moved.changed)
        resolved = self.registry.resolve(registered.record.child_id)
        self.assertEqual(resolved.record.postcode, "PO19 1AB")

    def test_a_subscriber_reads_a_birth_from_its_areas_feed(self) -> None:
        registered = self.registry.register_birth(
            fictional_birth("py-feed", fictional_nhs_number(9), local_authority="845"))
        request = v1.SubscribeRequest(local_authorities=["845"], from_beginning=True)
        with self.registry.subscribe(request) as feed:
            births = (event for message in feed for event in message.events
                      if event.kind == v1.FEED_EVENT_KIND_BIRTH_REGISTERED)
            event = next(births)
        self.assertEqual(event.child_id, registered.record.child_id)
        self.assertEqual(event.local_authority, "845")
        self.assertNotEqual(event.cursor, "")

    def test_the_health_check_says_serving(self) -> None:
        self.assertEqual(self.registry.check_health(), cir_registry.ServingStatus.SERVING)
        self.assertEqual(self.registry.check_health("cir.v1.ChildRegistry"),
                         cir_registry.ServingStatus.SERVING)

    def test_the_registry_says_it_is_a_test_environment(self) -> None:
        described = self.registry.describe_registry()
        self.assertEqual(described.environment,
                         v1.DescribeRegistryResponse.ENVIRONMENT_TEST)

    def test_leaving_the_with_block_closes_the_channel(self) -> None:
        with cir_registry.Client(self.server.target, insecure_plaintext=True) as registry:
            self.assertEqual(registry.check_health(), cir_registry.ServingStatus.SERVING)
            self.assertFalse(registry.closed)
        self.assertTrue(registry.closed)
        with self.assertRaisesRegex(ValueError, "closed channel"):
            registry.check_health()


class ClientSettingsTest(unittest.TestCase):
    def test_a_client_without_tls_files_must_ask_for_plaintext(self) -> None:
        with self.assertRaisesRegex(ValueError, "mutual TLS"):
            cir_registry.Client("127.0.0.1:1")

    def test_a_registry_not_reached_is_unavailable_without_a_reason(self) -> None:
        with cir_registry.Client("127.0.0.1:1", insecure_plaintext=True, timeout=5,
                                 max_attempts=1) as registry:
            with self.assertRaises(cir_registry.Unavailable) as refused:
                registry.resolve(fictional_nhs_number(10))
        self.assertIsNone(refused.exception.reason)
        self.assertEqual(refused.exception.metadata, {})


if __name__ == "__main__":
    unittest.main()
