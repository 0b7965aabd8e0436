"""A cir-server process for the tests: on 127.0.0.1, port 0, with a folder of its own, started by
the test and killed when it ends (as tests/testing/server_process.cc starts one for the C++
tests)."""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import threading
from typing import List, Optional

SERVER = os.environ.get("CIR_SERVER_PATH", "build/cir-server")
SOURCE_DIR = os.environ.get("CIR_SOURCE_DIR", ".")

# The agency every call of a plaintext test server is made by, with every role, every area and
# the notifying system of the fictional births (as tests/testing/test_access.cc's).
TEST_AGENCY = "registry-tests"
TEST_END_USER = "test-user-1"
TEST_PURPOSE = "DIRECT_CARE"
_ROLES = ["ROLE_MATERNITY", "ROLE_HEALTH_VISITING", "ROLE_SCHOOL", "ROLE_CHILDRENS_CENTRE",
          "ROLE_LA_DATA_TEAM", "ROLE_REGISTRAR", "ROLE_AUDITOR", "ROLE_OPERATOR"]

_SERVING_MARKER = "serving on 127.0.0.1:"


def test_access_config() -> str:
    lines = ['trust_domain: "registry.test"', "agency {", f'  id: "{TEST_AGENCY}"',
             '  name: "The Python client\'s tests"']
    lines += [f"  role: {role}" for role in _ROLES]
    lines += [f'  local_authority: "{code}"' for code in range(201, 1000)]
    lines += ['  notifying_system: "RXH01"', "}"]
    return "\n".join(lines) + "\n"


def _write_secret(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


class RegistryServer:
    """One cir-server, a test environment (--allow-test-nhs-numbers) with an encrypted store."""

    def __init__(self) -> None:
        self._temp = tempfile.TemporaryDirectory(prefix="cir-python-test-")
        self.folder = self._temp.name
        master_key = os.path.join(self.folder, "master.key")
        signing_key = os.path.join(self.folder, "audit-signing.key")
        _write_secret(master_key, secrets.token_hex(32))
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", signing_key],
                       check=True, capture_output=True)
        self._args = [SERVER, "--listen", "127.0.0.1:0", "--data-dir",
                      os.path.join(self.folder, "data"), "--create-if-missing",
                      "--allow-test-nhs-numbers", "--master-key-file", master_key,
                      "--audit-signing-key", signing_key]
        # The folder of scripts/dev-pki's certificates, for a server over mutual TLS.
        self.pki = ""
        self._process: Optional[subprocess.Popen] = None
        self._log: List[str] = []
        self.port = 0

    @classmethod
    def plaintext(cls) -> RegistryServer:
        """A server without TLS on which every call is made by TEST_AGENCY."""
        server = cls()
        access_config = os.path.join(server.folder, "access.textproto")
        with open(access_config, "w") as out:
            out.write(test_access_config())
        server._args += ["--insecure-plaintext-for-tests", TEST_AGENCY, "--access-config",
                         access_config]
        return server

    @classmethod
    def mutual_tls(cls) -> RegistryServer:
        """A server over mutual TLS with a development CA, certificates and agencies made by
        scripts/dev-pki in `pki` (a client certificate per role: maternity.pem, ...)."""
        server = cls()
        server.pki = pki = os.path.join(server.folder, "pki")
        subprocess.run([os.path.join(SOURCE_DIR, "scripts", "dev-pki"), pki], check=True,
                       capture_output=True)
        server._args += ["--access-config", os.path.join(pki, "access.textproto"),
                         "--tls-ca", os.path.join(pki, "ca.pem"),
                         "--tls-cert", os.path.join(pki, "server.pem"),
                         "--tls-key", os.path.join(pki, "server.key"),
                         "--tls-crl-dir", os.path.join(pki, "crl")]
        return server

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return "".join(self._log)

    def start(self) -> None:
        """Starts the server and returns once it serves (its log says on which port)."""
        self._process = subprocess.Popen(self._args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         text=True)
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._log.append(line)
            at = line.find(_SERVING_MARKER)
            if at >= 0:
                self.port = int(line[at + len(_SERVING_MARKER):].split(",")[0])
                break
        if self.port == 0:
            self._process.wait()
            raise RuntimeError(f"cir-server did not start:\n{self.log}")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in self._process.stderr:
            self._log.append(line)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._temp.cleanup()

    def __enter__(self) -> RegistryServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
