"""The Python client over mutual TLS, with the development CA and the per-role agency
certificates scripts/dev-pki makes."""

import os
import unittest

import grpc

import cir_registry
from fictional_children import fictional_birth, fictional_nhs_number
from registry_server import RegistryServer


class MutualTlsTest(unittest.TestCase):
    server: RegistryServer

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = RegistryServer.mutual_tls()
        cls.server.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()

    def agency(self, role: str, **settings: str) -> cir_registry.Client:
        """A client acting as the development agency of `role`, with its certificate."""
        pki = self.server.pki
        client = cir_registry.Client(
            self.server.target, ca_file=os.path.join(pki, "ca.pem"),
            cert_file=os.path.join(pki, f"{role}.pem"), key_file=os.path.join(pki, f"{role}.key"),
            **settings)
        self.addCleanup(client.close)
        return client

    def test_maternity_registers_a_birth_that_health_visiting_resolves(self) -> None:
        nhs_number = fictional_nhs_number(101)
        registered = self.agency("maternity").register_birth(
            fictional_birth("py-tls-birth", nhs_number))
        health_visitor = self.agency("health-visiting", end_user="hv-smartcard-1",
                                     purpose_of_use="DIRECT_CARE")
        resolved = health_visitor.resolve(nhs_number)
        self.assertEqual(resolved.record.child_id, registered.record.child_id)

    def test_an_agency_whose_roles_do_not_allow_a_method_is_refused_with_the_reason(self) -> None:
        with self.assertRaises(cir_registry.PermissionDenied) as refused:
            self.agency("school").register_birth(fictional_birth("py-tls-school", ""))
        self.assertEqual(refused.exception.code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(refused.exception.reason, "METHOD_NOT_PERMITTED")

    def test_the_operator_sees_the_server_serving(self) -> None:
        self.assertEqual(self.agency("operator").check_health(),
                         cir_registry.ServingStatus.SERVING)

    def test_a_missing_certificate_file_is_named(self) -> None:
        missing = os.path.join(self.server.pki, "no-such-agency.pem")
        with self.assertRaises(FileNotFoundError) as raised:
            cir_registry.Client(self.server.target,
                                ca_file=os.path.join(self.server.pki, "ca.pem"),
                                cert_file=missing, key_file=missing)
        self.assertEqual(raised.exception.filename, missing)


if __name__ == "__main__":
    unittest.main()
