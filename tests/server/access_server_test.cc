// Mutual TLS and access control over a real server: a registry in this process serving over mutual
// TLS with a PKI made for the test, and one agency per role. Every rule of "Who may call what"
// (proto/cir/v1/registry.proto) and "Who may see what" (DOMAIN.md) has its negative test here, each
// asserting the exact code and, where the registry gives one, the reason.

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "access/access_config.pb.h"
#include "access/policy_source.h"
#include "cir/client.h"
#include "cir/v1/registry.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "identifiers/child_id.h"
#include "server/registry_server.h"
#include "server/tls_material.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"
#include "tests/testing/test_pki.h"

namespace cir::server {
namespace {

using testing::CertificateSpec;
using ::testing::Contains;
using testing::FictionalBirth;
using testing::FictionalNhsNumber;
using testing::FictionalUpn;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using testing::PemCertificate;
using testing::TestCertificateAuthority;

constexpr char kTrustDomain[] = "registry.test";

// The agencies of the test's access configuration: one per role, and a second of some.
constexpr char kMaternity[] = "maternity-rxh01";
constexpr char kOtherMaternity[] = "maternity-ryj02";
constexpr char kHealthVisiting[] = "health-visiting";
constexpr char kSchool[] = "school";
constexpr char kCentre938[] = "centre-938";
constexpr char kDataTeam938[] = "data-team-938";
constexpr char kOtherDataTeam938[] = "data-team-938-b";
constexpr char kCentre845[] = "centre-845";
constexpr char kDataTeam845[] = "data-team-845";
constexpr char kRegistrar[] = "registrar";
constexpr char kAuditor[] = "auditor";
constexpr char kOperator[] = "operator";

struct AgencySpec {
  std::string id;
  access::Role role;
  std::vector<std::string> local_authorities;
  std::vector<std::string> notifying_systems;
};

const std::vector<AgencySpec>& Agencies() {
  static const auto* agencies = new std::vector<AgencySpec>{
      {kMaternity, access::ROLE_MATERNITY, {}, {"RXH01"}},
      {kOtherMaternity, access::ROLE_MATERNITY, {}, {"RYJ02"}},
      {kHealthVisiting, access::ROLE_HEALTH_VISITING, {}, {}},
      {kSchool, access::ROLE_SCHOOL, {}, {}},
      {kCentre938, access::ROLE_CHILDRENS_CENTRE, {"938"}, {}},
      {kDataTeam938, access::ROLE_LA_DATA_TEAM, {"938"}, {}},
      {kOtherDataTeam938, access::ROLE_LA_DATA_TEAM, {"938"}, {}},
      {kCentre845, access::ROLE_CHILDRENS_CENTRE, {"845"}, {}},
      {kDataTeam845, access::ROLE_LA_DATA_TEAM, {"845"}, {}},
      {kRegistrar, access::ROLE_REGISTRAR, {}, {}},
      {kAuditor, access::ROLE_AUDITOR, {}, {}},
      {kOperator, access::ROLE_OPERATOR, {}, {}},
  };
  return *agencies;
}

const AgencySpec& AgencyNamed(const std::string& id) {
  for (const AgencySpec& agency : Agencies()) {
    if (agency.id == id) return agency;
  }
  std::abort();  // a test names an agency the list lacks
}

// The purpose a role's person calls with; empty for the roles that call as systems.
std::string PurposeOf(access::Role role) {
  switch (role) {
    case access::ROLE_HEALTH_VISITING:
      return "DIRECT_CARE";
    case access::ROLE_SCHOOL:
      return "EDUCATION";
    case access::ROLE_CHILDRENS_CENTRE:
      return "EARLY_HELP";
    case access::ROLE_LA_DATA_TEAM:
      return "RECORD_MAINTENANCE";
    case access::ROLE_AUDITOR:
      return "AUDIT";
    default:
      return "";
  }
}

std::string AgencyUri(const std::string& id, const std::string& trust_domain = kTrustDomain) {
  return absl::StrCat("spiffe://", trust_domain, "/agency/", id);
}

std::string AgencyBlock(const AgencySpec& agency) {
  std::string block = absl::StrCat("agency {\n  id: \"", agency.id, "\"\n  name: \"", agency.id,
                                   "\"\n  role: ", access::Role_Name(agency.role), "\n");
  for (const std::string& area : agency.local_authorities) {
    absl::StrAppend(&block, "  local_authority: \"", area, "\"\n");
  }
  for (const std::string& system : agency.notifying_systems) {
    absl::StrAppend(&block, "  notifying_system: \"", system, "\"\n");
  }
  absl::StrAppend(&block, "}\n");
  return block;
}

// The access configuration (access/access_config.proto, text): every agency of Agencies(), then
// `more` (agency blocks).
std::string AccessConfig(const std::string& more = "") {
  std::string config = absl::StrCat("trust_domain: \"", kTrustDomain, "\"\n");
  for (const AgencySpec& agency : Agencies()) absl::StrAppend(&config, AgencyBlock(agency));
  absl::StrAppend(&config, more);
  return config;
}

// "Who may call what", as the proto's table says: the roles that may call each method.
const std::map<std::string, std::set<access::Role>>& DocumentedCallers() {
  using access::Role;
  static const auto* callers = [] {
    const std::set<Role> every_role = {access::ROLE_MATERNITY,    access::ROLE_HEALTH_VISITING,
                                       access::ROLE_SCHOOL,       access::ROLE_CHILDRENS_CENTRE,
                                       access::ROLE_LA_DATA_TEAM, access::ROLE_REGISTRAR,
                                       access::ROLE_AUDITOR,      access::ROLE_OPERATOR};
    const std::set<Role> data_team = {access::ROLE_LA_DATA_TEAM};
    return new std::map<std::string, std::set<Role>>{
        {"/cir.v1.ChildRegistry/RegisterBirth", {access::ROLE_MATERNITY}},
        {"/cir.v1.ChildRegistry/RegisterBirths", {access::ROLE_MATERNITY}},
        {"/cir.v1.ChildRegistry/RecordDeath", {access::ROLE_MATERNITY, access::ROLE_REGISTRAR}},
        {"/cir.v1.ChildRegistry/Resolve",
         {access::ROLE_HEALTH_VISITING, access::ROLE_SCHOOL, access::ROLE_CHILDRENS_CENTRE,
          access::ROLE_LA_DATA_TEAM}},
        {"/cir.v1.ChildRegistry/BatchResolve", {access::ROLE_SCHOOL}},
        {"/cir.v1.ChildRegistry/LinkUpn", {access::ROLE_SCHOOL}},
        {"/cir.v1.ChildRegistry/LinkNhsNumber", {access::ROLE_HEALTH_VISITING}},
        {"/cir.v1.ChildRegistry/ChangeAddress", data_team},
        {"/cir.v1.ChildRegistry/CorrectDetails", data_team},
        {"/cir.v1.ChildRegistry/SupersedeNhsNumber", data_team},
        {"/cir.v1.ChildRegistry/MergeRecords", data_team},
        {"/cir.v1.ChildRegistry/UndoMerge", data_team},
        {"/cir.v1.ChildRegistry/RestrictSharing", data_team},
        {"/cir.v1.ChildRegistry/DescribeRegistry", every_role},
        {"/cir.v1.ChildrenFeed/Subscribe", {access::ROLE_CHILDRENS_CENTRE}},
        {"/cir.v1.ChildrenFeed/ListEvents", {access::ROLE_CHILDRENS_CENTRE}},
        {"/cir.v1.AuditLog/ReadEntries", {access::ROLE_AUDITOR}},
        {"/cir.v1.AuditLog/ListCheckpoints", {access::ROLE_AUDITOR}},
        {"/cir.v1.AuditLog/ProveConsistency", {access::ROLE_AUDITOR}},
        {"/cir.v1.AuditLog/GetAccessReport", {access::ROLE_AUDITOR}},
        {"/cir.v1.RegistryAdmin/BackUp", {access::ROLE_OPERATOR}},
    };
  }();
  return *callers;
}

// The names of the fields set in `message` (top level).
std::set<std::string> SetFields(const google::protobuf::Message& message) {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  std::set<std::string> names;
  for (const google::protobuf::FieldDescriptor* field : fields) names.insert(field->name());
  return names;
}

// Calls `condition` every 100 ms until it holds or `limit` has passed; whether it held.
bool Eventually(absl::Duration limit, const std::function<bool()>& condition) {
  const absl::Time give_up = absl::Now() + limit;
  while (true) {
    if (condition()) return true;
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// Writes `text` to `path` whole or not at all (a file beside it renamed over it), so that the
// server, which looks at its files every second, never reads half of one.
void ReplaceFile(const std::string& path, const std::string& text) {
  const std::string next = path + ".next";
  testing::WritePem(next, text, /*secret=*/false);
  std::filesystem::rename(next, path);
}

// A call made without the client library: its status as sent, and its reason.
struct RawAnswer {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message;
  std::string reason;  // the ErrorInfo's reason; "" if the status carries none
  std::map<std::string, std::string> metadata;  // the ErrorInfo's metadata
  std::string response;                         // the response's bytes, when OK
};

std::string ReasonName(v1::ErrorReason reason) { return v1::ErrorReason_Name(reason); }

// Calls `method` (a full path) on `channel` with `request` (serialised) as a unary call, which a
// server-streaming or bidirectional method also takes (one request, then the status). A call made
// for a person sends the end user and purpose.
RawAnswer CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                  const std::string& request, bool for_person) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (for_person) {
    context.AddMetadata("x-cir-end-user", "test-user-1");
    context.AddMetadata("x-cir-purpose-of-use", "DIRECT_CARE");
  }
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  std::promise<grpc::Status> finished;
  // gRPC runs the callback on a thread of its own: the release here and the acquire there order
  // the promise's making before its use, as ThreadSanitizer can see (gRPC's hand-off it cannot).
  std::atomic<bool> started;
  started.store(true, std::memory_order_release);
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request_buffer, &response_buffer,
                 [&finished, &started](grpc::Status status) {
                   started.load(std::memory_order_acquire);
                   finished.set_value(std::move(status));
                 });
  const grpc::Status status = finished.get_future().get();
  RawAnswer answer;
  answer.code = status.error_code();
  answer.message = status.error_message();
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (!any.UnpackTo(&info)) continue;
      answer.reason = info.reason();
      answer.metadata.insert(info.metadata().begin(), info.metadata().end());
    }
  }
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    if (response_buffer.Dump(&slices).ok()) {
      for (const grpc::Slice& part : slices) {
        answer.response.append(reinterpret_cast<const char*>(part.begin()), part.size());
      }
    }
  }
  return answer;
}

// A CA certificate and a CRL it signed whose next update has passed (PEM); nullopt if OpenSSL
// failed. TestCertificateAuthority signs only current CRLs.
struct AuthorityWithExpiredCrl {
  std::string certificate_pem;
  std::string crl_pem;
};

std::optional<AuthorityWithExpiredCrl> MakeAuthorityWithExpiredCrl(const std::string& name) {
  using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;
  using Crl = std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)>;
  using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
  using Time = std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)>;
  constexpr long kDay = 24 * 60 * 60;
  Key key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  Certificate ca(X509_new(), &X509_free);
  Crl crl(X509_CRL_new(), &X509_CRL_free);
  if (key == nullptr || ca == nullptr || crl == nullptr) return std::nullopt;
  bool ok = X509_set_version(ca.get(), X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(ca.get()), 1) == 1 &&
            X509_NAME_add_entry_by_NID(
                X509_get_subject_name(ca.get()), NID_commonName, MBSTRING_UTF8,
                reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0) == 1 &&
            X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(ca.get()), -7 * kDay) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(ca.get()), 365 * kDay) != nullptr &&
            X509_set_pubkey(ca.get(), key.get()) == 1;
  for (const auto& [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                                   std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"}}) {
    if (!ok) break;
    X509V3_CTX context;
    X509V3_set_ctx(&context, ca.get(), ca.get(), nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_nconf_nid(nullptr, &context, nid, value);
    ok = extension != nullptr && X509_add_ext(ca.get(), extension, -1) == 1;
    X509_EXTENSION_free(extension);
  }
  ok = ok && X509_sign(ca.get(), key.get(), EVP_sha256()) > 0;
  Time last_update(X509_gmtime_adj(nullptr, -2 * kDay), &ASN1_TIME_free);
  Time next_update(X509_gmtime_adj(nullptr, -kDay), &ASN1_TIME_free);
  ok = ok && last_update != nullptr && next_update != nullptr &&
       X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) == 1 &&
       X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.get())) == 1 &&
       X509_CRL_set1_lastUpdate(crl.get(), last_update.get()) == 1 &&
       X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) == 1 &&
       X509_CRL_sign(crl.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return std::nullopt;
  const auto pem = [](auto write) -> std::string {
    Bio bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (bio == nullptr || write(bio.get()) != 1) return "";
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return size > 0 ? std::string(data, static_cast<size_t>(size)) : "";
  };
  AuthorityWithExpiredCrl authority{
      pem([&](BIO* bio) { return PEM_write_bio_X509(bio, ca.get()); }),
      pem([&](BIO* bio) { return PEM_write_bio_X509_CRL(bio, crl.get()); })};
  if (authority.certificate_pem.empty() || authority.crl_pem.empty()) return std::nullopt;
  return authority;
}

// A registry over mutual TLS with the PKI, the agencies and the access configuration above: every
// agency has a certificate naming it (pki/<id>.pem, .key), and the access configuration is a file
// the server checks again every second.
class AccessServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WritePem(Pki("ca.pem"), ca_.certificate_pem(), false);
    const PemCertificate server = ca_.Issue({.common_name = "localhost",
                                             .dns_sans = {"localhost"},
                                             .ip_sans = {"127.0.0.1"},
                                             .server = true});
    testing::WritePem(Pki("server.pem"), server.certificate_pem, false);
    testing::WritePem(Pki("server.key"), server.private_key_pem, true);
    WriteCrl();
    for (const AgencySpec& agency : Agencies()) {
      certificates_[agency.id] = IssueCertificate(
          agency.id, {.common_name = agency.id, .uri_sans = {AgencyUri(agency.id)}});
    }
    ReplaceFile(Pki("access.textproto"), AccessConfig());
    ASSERT_TRUE(testing::WriteSigningKeyFile(dir_.Sub("audit-signing.key")));
    std::filesystem::create_directories(dir_.Sub("staging"));
    StartServer();
  }

  std::string Pki(const std::string& name) const { return dir_.Sub("pki/" + name); }

  // Issues a certificate by `spec` and writes it as pki/<name>.pem and .key.
  PemCertificate IssueCertificate(const std::string& name, const CertificateSpec& spec,
                                  const TestCertificateAuthority* authority = nullptr) {
    const PemCertificate certificate = (authority != nullptr ? *authority : ca_).Issue(spec);
    testing::WritePem(Pki(name + ".pem"), certificate.certificate_pem, false);
    testing::WritePem(Pki(name + ".key"), certificate.private_key_pem, true);
    return certificate;
  }

  // The CA's CRL as it stands, in the CRL folder.
  void WriteCrl() {
    std::filesystem::create_directories(Pki("crl"));
    ReplaceFile(Pki("crl/" + ca_.CrlHashFileName()), ca_.CrlPem());
  }

  RegistryServerOptions Options(const std::string& store = "db") {
    RegistryServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.store.path = dir_.Sub(store);
    options.store.create_if_missing = true;
    options.registry.allow_test_nhs_numbers = true;  // fictional children only
    options.tls = TlsFiles{.ca_bundle = Pki("ca.pem"),
                           .certificate = Pki("server.pem"),
                           .private_key = Pki("server.key"),
                           .crl_directory = Pki("crl")};
    options.tls_staging_parent = dir_.Sub("staging");
    options.audit_signing_key = dir_.Sub("audit-signing.key");  // a checkpoint at each stop
    options.tls_refresh = absl::Seconds(1);
    options.max_connection_age = absl::Seconds(2);
    options.max_connection_age_grace = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<access::PolicySource>> policy =
        access::PolicySource::Open(Pki("access.textproto"));
    EXPECT_TRUE(policy.ok()) << policy.status();
    if (policy.ok()) options.access = *std::move(policy);
    return options;
  }

  void StartServer() {
    absl::StatusOr<std::unique_ptr<RegistryServer>> server = RegistryServer::Start(Options());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::string Target() const { return absl::StrCat("127.0.0.1:", server_->port()); }

  // A client of its own (its own connection) with `credentials`, calling for `end_user` if set.
  std::unique_ptr<Client> ClientWith(std::shared_ptr<grpc::ChannelCredentials> credentials,
                                     const std::string& end_user = "",
                                     const std::string& purpose = "") {
    return std::make_unique<Client>(ClientOptions{.target = Target(),
                                                  .credentials = std::move(credentials),
                                                  .default_timeout = absl::Seconds(5),
                                                  .max_attempts = 1,
                                                  .end_user = end_user,
                                                  .purpose_of_use = purpose});
  }

  // The credentials of the certificate written as pki/<name>.pem and .key.
  std::shared_ptr<grpc::ChannelCredentials> CredentialsOf(const std::string& name) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        MutualTlsFromFiles({.ca_file = Pki("ca.pem"),
                            .certificate_file = Pki(name + ".pem"),
                            .key_file = Pki(name + ".key")});
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    return credentials.ok() ? *credentials : nullptr;
  }

  // A client of agency `id`, calling for a person (with its role's purpose) if its role does.
  std::unique_ptr<Client> ClientOf(const std::string& id) {
    const std::string purpose = PurposeOf(AgencyNamed(id).role);
    return ClientWith(CredentialsOf(id), purpose.empty() ? "" : absl::StrCat("user-of-", id),
                      purpose);
  }

  // A channel of agency `id` for calls made without the client library.
  std::shared_ptr<grpc::Channel> RawChannelOf(const std::string& id) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ca_.certificate_pem();
    tls.pem_cert_chain = certificates_.at(id).certificate_pem;
    tls.pem_private_key = certificates_.at(id).private_key_pem;
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(Target(), grpc::SslCredentials(tls), args);
  }

  // A birth notified by kMaternity (RXH01), in `local_authority`; the child's record.
  v1::ChildRecord RegisterChild(int n, const std::string& local_authority = "938") {
    v1::RegisterBirthRequest birth =
        FictionalBirth(absl::StrCat("birth-", n), FictionalNhsNumber(n));
    birth.set_local_authority(local_authority);
    if (local_authority == "845") birth.set_postcode("BN7 1AA");
    birth.add_address_lines("1 Test Lane");
    absl::StatusOr<v1::RegisterBirthResponse> registered =
        ClientOf(kMaternity)->RegisterBirth(birth);
    EXPECT_TRUE(registered.ok()) << registered.status();
    return registered.ok() ? registered->record() : v1::ChildRecord();
  }

  testing::TempDir dir_;
  TestCertificateAuthority ca_ = TestCertificateAuthority::Create("CIR Test Agencies CA");
  std::map<std::string, PemCertificate> certificates_;
  std::unique_ptr<RegistryServer> server_;
};

// ---- Identity: mutual TLS and the agency a certificate names -----------------------------------

TEST_F(AccessServerTest, EveryConfiguredAgencyIsLetInByItsCertificate) {
  for (const AgencySpec& agency : Agencies()) {
    EXPECT_TRUE(ClientOf(agency.id)->DescribeRegistry().ok()) << agency.id;
  }
}

TEST_F(AccessServerTest, ACallWithoutAClientCertificateFailsAtTheHandshake) {
  grpc::SslCredentialsOptions server_only;
  server_only.pem_root_certs = ca_.certificate_pem();
  absl::Status refused = ClientWith(grpc::SslCredentials(server_only))->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
}

TEST_F(AccessServerTest, ACertificateFromAnUnknownAuthorityFailsAtTheHandshake) {
  const TestCertificateAuthority stranger = TestCertificateAuthority::Create("Stranger CA");
  IssueCertificate("stranger", {.common_name = kSchool, .uri_sans = {AgencyUri(kSchool)}},
                   &stranger);
  absl::Status refused = ClientWith(CredentialsOf("stranger"))->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
}

TEST_F(AccessServerTest, AnExpiredCertificateFailsAtTheHandshake) {
  IssueCertificate("expired", {.common_name = kSchool,
                               .uri_sans = {AgencyUri(kSchool)},
                               .valid_for = absl::Hours(24),
                               .not_before_offset = -absl::Hours(48)});
  absl::Status refused = ClientWith(CredentialsOf("expired"))->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
}

TEST_F(AccessServerTest, ACertificateRevokedWhenTheServerStartsFailsAtTheHandshake) {
  server_.reset();
  ca_.Revoke(certificates_.at(kSchool));
  WriteCrl();
  StartServer();
  absl::Status refused = ClientOf(kSchool)->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  absl::Status other = ClientOf(kHealthVisiting)->DescribeRegistry().status();
  EXPECT_TRUE(other.ok()) << other;
}

TEST_F(AccessServerTest, AConnectionMadeBeforeARevocationEndsWithinTheMaximumConnectionAge) {
  // One client, so one connection, made and used before the revocation.
  std::unique_ptr<Client> school = ClientOf(kSchool);
  ASSERT_TRUE(school->DescribeRegistry().ok());
  ca_.Revoke(certificates_.at(kSchool));
  WriteCrl();
  // The server's connections last 2 seconds (Options): the client must connect
  // again, and its certificate is then refused at the handshake.
  absl::Status last;
  EXPECT_TRUE(Eventually(absl::Seconds(15), [&] {
    last = school->DescribeRegistry().status();
    return !last.ok();
  }));
  EXPECT_EQ(last.code(), absl::StatusCode::kUnavailable) << last;
  std::unique_ptr<Client> health_visiting = ClientOf(kHealthVisiting);
  absl::Status other = health_visiting->DescribeRegistry().status();
  EXPECT_TRUE(other.ok()) << other;
}

TEST_F(AccessServerTest, ACertificateWithTwoUriNamesIsUnauthenticated) {
  IssueCertificate("two-uris", {.common_name = kSchool,
                                .uri_sans = {AgencyUri(kSchool), AgencyUri(kHealthVisiting)}});
  absl::Status refused = ClientWith(CredentialsOf("two-uris"))->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
}

TEST_F(AccessServerTest, ACertificateWithoutAUriNameIsUnauthenticated) {
  IssueCertificate("no-uri", {.common_name = kSchool, .dns_sans = {"school.registry.test"}});
  absl::Status refused = ClientWith(CredentialsOf("no-uri"))->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
}

TEST_F(AccessServerTest, ACertificateNamingAnotherTrustDomainIsUnauthenticated) {
  IssueCertificate("elsewhere",
                   {.common_name = kSchool, .uri_sans = {AgencyUri(kSchool, "other.test")}});
  absl::Status refused = ClientWith(CredentialsOf("elsewhere"))->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
}

TEST_F(AccessServerTest, ACertificateNamingAnUnconfiguredAgencyIsUnauthenticated) {
  IssueCertificate("unknown", {.common_name = "unknown", .uri_sans = {AgencyUri("unknown")}});
  absl::Status refused = ClientWith(CredentialsOf("unknown"))->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
  // A URI that only begins with a configured agency's names none.
  IssueCertificate("longer", {.common_name = kSchool, .uri_sans = {AgencyUri(kSchool) + "/x"}});
  refused = ClientWith(CredentialsOf("longer"))->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
}

// The contract (registry.proto: "Every refusal also carries a machine-readable reason", and
// ErrorReason CALLER_NOT_IDENTIFIED, "the call's client certificate does not name exactly one
// agency of this registry's trust domain, or names no configured agency") promises this reason.
// (The authenticator lets such a call reach the registry's CallGate, whose refusal carries it.)
TEST_F(AccessServerTest, ACertificateNamingNoAgencyIsRefusedWithTheReasonCallerNotIdentified) {
  IssueCertificate("unknown", {.common_name = "unknown", .uri_sans = {AgencyUri("unknown")}});
  absl::Status refused = ClientWith(CredentialsOf("unknown"))->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
  EXPECT_EQ(ErrorReasonOf(refused), v1::CALLER_NOT_IDENTIFIED) << refused;
}

TEST_F(AccessServerTest, ARefusedCertificateIsAuditedWithTheNamesItPresented) {
  IssueCertificate("unknown", {.common_name = "unknown", .uri_sans = {AgencyUri("unknown")}});
  ASSERT_FALSE(ClientWith(CredentialsOf("unknown"))->DescribeRegistry().ok());
  // The refusal's entry is durable before the refusal is sent: the auditor finds it at once.
  v1::ReadAuditEntriesRequest request;
  absl::StatusOr<v1::ReadAuditEntriesResponse> log = ClientOf(kAuditor)->ReadAuditEntries(request);
  ASSERT_TRUE(log.ok()) << log.status();
  int found = 0;
  for (const v1::AuditRecord& record : log->records()) {
    v1::AuditEntry entry;
    ASSERT_TRUE(entry.ParseFromString(record.entry()));
    if (entry.reason() != "CALLER_NOT_IDENTIFIED") continue;
    ++found;
    EXPECT_EQ(entry.agency_id(), "");
    EXPECT_EQ(entry.method(), "/cir.v1.ChildRegistry/DescribeRegistry");
    EXPECT_THAT(entry.presented_uris(), ::testing::ElementsAre(AgencyUri("unknown")));
  }
  EXPECT_EQ(found, 1);
}

TEST_F(AccessServerTest, APlaintextClientIsNotAnswered) {
  absl::Status refused =
      ClientWith(grpc::InsecureChannelCredentials())->DescribeRegistry().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
}

// ---- Start-up refusals --------------------------------------------------------------------------

TEST_F(AccessServerTest, TheServerDoesNotStartWhenACaOfTheBundleHasNoCrl) {
  const TestCertificateAuthority unlisted = TestCertificateAuthority::Create("Unlisted CA");
  testing::WritePem(Pki("ca.pem"), ca_.certificate_pem() + unlisted.certificate_pem(), false);
  absl::StatusOr<std::unique_ptr<RegistryServer>> refused =
      RegistryServer::Start(Options("db-refused"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("Unlisted CA"));
}

TEST_F(AccessServerTest, TheServerDoesNotStartWhenACrlHasExpired) {
  std::optional<AuthorityWithExpiredCrl> lapsed = MakeAuthorityWithExpiredCrl("Lapsed CA");
  ASSERT_TRUE(lapsed.has_value());
  testing::WritePem(Pki("ca.pem"), ca_.certificate_pem() + lapsed->certificate_pem, false);
  testing::WritePem(Pki("crl/lapsed.pem"), lapsed->crl_pem, false);
  absl::StatusOr<std::unique_ptr<RegistryServer>> refused =
      RegistryServer::Start(Options("db-refused"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("Lapsed CA"));
}

TEST_F(AccessServerTest, TheServerDoesNotStartWhenACrlIsNotSignedByItsCa) {
  // Another authority of the same name: its CRL names the CA but is not signed with its key.
  const TestCertificateAuthority impostor =
      TestCertificateAuthority::Create("CIR Test Agencies CA");
  std::filesystem::remove(Pki("crl/" + ca_.CrlHashFileName()));
  testing::WritePem(Pki("crl/" + impostor.CrlHashFileName()), impostor.CrlPem(), false);
  absl::StatusOr<std::unique_ptr<RegistryServer>> refused =
      RegistryServer::Start(Options("db-refused"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
}

TEST_F(AccessServerTest, APlaintextServerDoesNotStartOnANonLoopbackAddress) {
  RegistryServerOptions options = Options("db-refused");
  options.tls.reset();
  options.plaintext_agency_for_tests = kOperator;
  options.listen_address = "0.0.0.0:0";
  absl::StatusOr<std::unique_ptr<RegistryServer>> refused = RegistryServer::Start(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("loopback"));
}

TEST_F(AccessServerTest, APlaintextServerDoesNotStartOnANameThatOnlyLooksLikeLoopback) {
  RegistryServerOptions options = Options("db-refused-name");
  options.tls.reset();
  options.plaintext_agency_for_tests = kOperator;
  options.listen_address = "127.example.org:0";  // a name, which may resolve anywhere
  absl::StatusOr<std::unique_ptr<RegistryServer>> refused = RegistryServer::Start(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("loopback"));
}

// ---- Roles: every method, every role
// --------------------------------------------------------------

TEST_F(AccessServerTest, EveryMethodRefusesEveryRoleTheTableDoesNotAllowAndAdmitsTheOthers) {
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  for (const AgencySpec& agency : Agencies()) channels[agency.id] = RawChannelOf(agency.id);
  int methods = 0;
  for (const char* service_name :
       {"cir.v1.ChildRegistry", "cir.v1.ChildrenFeed", "cir.v1.AuditLog", "cir.v1.RegistryAdmin"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
    ASSERT_NE(service, nullptr) << service_name;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string path = absl::StrCat("/", service_name, "/", service->method(i)->name());
      ++methods;
      auto documented = DocumentedCallers().find(path);
      ASSERT_NE(documented, DocumentedCallers().end())
          << path << " is not in the proto's \"Who may call what\" table as this test has it";
      for (const AgencySpec& agency : Agencies()) {
        // An empty request: what refuses it must be the method's roles, not the person check.
        const RawAnswer answer = CallRaw(channels.at(agency.id), path, "", /*for_person=*/true);
        if (documented->second.contains(agency.role)) {
          EXPECT_NE(answer.reason, ReasonName(v1::METHOD_NOT_PERMITTED))
              << agency.id << " " << path << ": " << answer.message;
          EXPECT_NE(answer.code, grpc::StatusCode::PERMISSION_DENIED)
              << agency.id << " " << path << ": " << answer.message;
          EXPECT_NE(answer.code, grpc::StatusCode::UNAUTHENTICATED)
              << agency.id << " " << path << ": " << answer.message;
        } else {
          EXPECT_EQ(answer.code, grpc::StatusCode::PERMISSION_DENIED)
              << agency.id << " " << path << ": " << answer.message;
          EXPECT_EQ(answer.reason, ReasonName(v1::METHOD_NOT_PERMITTED))
              << agency.id << " " << path << ": " << answer.message;
          EXPECT_THAT(answer.metadata, Contains(Pair("method", path))) << agency.id;
        }
      }
    }
  }
  EXPECT_EQ(methods, static_cast<int>(DocumentedCallers().size()))
      << "the table lists a method the services do not have";
}

TEST_F(AccessServerTest, EveryRoleMayCheckHealth) {
  for (const AgencySpec& agency : Agencies()) {
    auto health = grpc::health::v1::Health::NewStub(RawChannelOf(agency.id));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = health->Check(&context, {}, &response);
    EXPECT_TRUE(status.ok()) << agency.id << ": " << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << agency.id;
  }
}

TEST_F(AccessServerTest, OnlyTheOperatorMayUseServerReflection) {
  // ServerReflectionRequest{list_services: "*"}: field 7, length 1.
  const std::string list_services("\x3a\x01*", 3);
  const std::string path = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
  for (const AgencySpec& agency : Agencies()) {
    const RawAnswer answer = CallRaw(RawChannelOf(agency.id), path, list_services, false);
    if (agency.role == access::ROLE_OPERATOR) {
      EXPECT_EQ(answer.code, grpc::StatusCode::OK) << answer.message;
      EXPECT_THAT(answer.response, HasSubstr("cir.v1.ChildRegistry"));
    } else {
      EXPECT_EQ(answer.code, grpc::StatusCode::PERMISSION_DENIED) << agency.id;
      EXPECT_THAT(answer.response, IsEmpty());
    }
  }
}

TEST_F(AccessServerTest, EveryReflectionCallIsAuditedAndAnAllowedHealthCheckIsNot) {
  const std::string list_services("\x3a\x01*", 3);
  const std::string path = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
  ASSERT_EQ(CallRaw(RawChannelOf(kOperator), path, list_services, false).code,
            grpc::StatusCode::OK);
  ASSERT_EQ(CallRaw(RawChannelOf(kSchool), path, list_services, false).code,
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_EQ(CallRaw(RawChannelOf(kSchool), "/grpc.health.v1.Health/Check", "", false).code,
            grpc::StatusCode::OK);
  // One more audited call after the health check. Entries of calls to other services are written
  // without the call waiting, but in the order of the calls: an entry of the health check, had it
  // been made, would be in the log by the time this one's is.
  ASSERT_EQ(CallRaw(RawChannelOf(kOperator), path, list_services, false).code,
            grpc::StatusCode::OK);
  std::vector<std::pair<std::string, std::string>> seen;  // agency, method
  EXPECT_TRUE(Eventually(absl::Seconds(5), [&] {
    seen.clear();
    absl::StatusOr<v1::ReadAuditEntriesResponse> log =
        ClientOf(kAuditor)->ReadAuditEntries(v1::ReadAuditEntriesRequest());
    if (!log.ok()) return false;
    for (const v1::AuditRecord& record : log->records()) {
      v1::AuditEntry entry;
      if (!entry.ParseFromString(record.entry())) return false;
      if (!absl::StartsWith(entry.method(), "/cir.v1.")) {
        seen.emplace_back(entry.agency_id(), entry.method());
      }
    }
    return seen.size() >= 3;
  }));
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre(std::make_pair(std::string(kOperator), path),
                                                    std::make_pair(std::string(kSchool), path),
                                                    std::make_pair(std::string(kOperator), path)));
}

TEST_F(AccessServerTest, OnlyTheOperatorMayWatchHealth) {
  for (const AgencySpec& agency : Agencies()) {
    if (agency.role == access::ROLE_OPERATOR) continue;  // a watch never ends by itself
    const RawAnswer answer =
        CallRaw(RawChannelOf(agency.id), "/grpc.health.v1.Health/Watch", "", false);
    EXPECT_EQ(answer.code, grpc::StatusCode::PERMISSION_DENIED) << agency.id;
  }
}

// ---- Calls made for a person
// ---------------------------------------------------------------------

TEST_F(AccessServerTest, AHealthVisitorsLookupWithoutItsEndUserIsUnauthenticated) {
  const v1::ChildRecord child = RegisterChild(1);
  absl::Status refused = ClientWith(CredentialsOf(kHealthVisiting), "", "DIRECT_CARE")
                             ->Resolve(child.child_id())
                             .status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
  EXPECT_EQ(ErrorReasonOf(refused), v1::END_USER_REQUIRED) << refused;
}

TEST_F(AccessServerTest, AHealthVisitorsLookupWithoutAKnownPurposeIsInvalid) {
  const v1::ChildRecord child = RegisterChild(1);
  for (const std::string purpose : {"", "SHOPPING", "UNSPECIFIED", "direct_care"}) {
    absl::Status refused = ClientWith(CredentialsOf(kHealthVisiting), "hv-user-1", purpose)
                               ->Resolve(child.child_id())
                               .status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << purpose << ": " << refused;
    EXPECT_EQ(ErrorReasonOf(refused), v1::PURPOSE_OF_USE_INVALID) << purpose << ": " << refused;
  }
  absl::StatusOr<v1::ResolveResponse> found =
      ClientWith(CredentialsOf(kHealthVisiting), "hv-user-1", "DIRECT_CARE")
          ->Resolve(child.child_id());
  EXPECT_TRUE(found.ok()) << found.status();
}

// ---- Areas
// ----------------------------------------------------------------------------------------

TEST_F(AccessServerTest, AChildOutsideACentresAreaIsAnsweredExactlyAsNoChild) {
  const v1::ChildRecord child = RegisterChild(1, "938");
  std::unique_ptr<Client> centre_845 = ClientOf(kCentre845);
  absl::Status outside = centre_845->Resolve(child.child_id()).status();
  absl::Status nobody = centre_845->Resolve(identifiers::GenerateChildId()).status();
  EXPECT_EQ(outside.code(), absl::StatusCode::kNotFound) << outside;
  EXPECT_EQ(outside, nobody);  // code, message and details alike
  EXPECT_EQ(ErrorReasonOf(outside), ErrorReasonOf(nobody));
  absl::Status outside_by_nhs = centre_845->Resolve(child.nhs_number()).status();
  absl::Status nobody_by_nhs = centre_845->Resolve(FictionalNhsNumber(500)).status();
  EXPECT_EQ(outside_by_nhs.code(), absl::StatusCode::kNotFound) << outside_by_nhs;
  EXPECT_EQ(outside_by_nhs, nobody_by_nhs);

  absl::StatusOr<v1::ResolveResponse> inside = ClientOf(kCentre938)->Resolve(child.child_id());
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_EQ(inside->record().child_id(), child.child_id());
}

TEST_F(AccessServerTest, ALookupOutOfReachIsInTheChildsAccessReportAsWithheld) {
  const v1::ChildRecord child = RegisterChild(3, "938");
  ASSERT_EQ(ClientOf(kCentre845)->Resolve(child.child_id()).status().code(),
            absl::StatusCode::kNotFound);
  server_.reset();  // stopping signs a checkpoint of every entry, which the report proves against
  StartServer();
  v1::GetAccessReportRequest request;
  request.set_child_id(child.child_id());
  absl::StatusOr<v1::GetAccessReportResponse> report = ClientOf(kAuditor)->GetAccessReport(request);
  ASSERT_TRUE(report.ok()) << report.status();
  int withheld = 0;
  for (const v1::AccessReportEntry& listed : report->entries()) {
    v1::AuditEntry entry;
    ASSERT_TRUE(entry.ParseFromString(listed.record().entry()));
    if (entry.agency_id() != kCentre845) continue;
    ++withheld;
    EXPECT_EQ(entry.method(), "/cir.v1.ChildRegistry/Resolve");
    EXPECT_THAT(entry.withheld_child_ids(), ::testing::ElementsAre(child.child_id()));
    EXPECT_THAT(entry.child_ids(), IsEmpty());  // nothing of the child was read
    EXPECT_THAT(entry.fields(), IsEmpty());
    EXPECT_EQ(entry.status_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  }
  EXPECT_EQ(withheld, 1);
}

TEST_F(AccessServerTest, ACentreMayNotReadTheFeedOfAnotherArea) {
  RegisterChild(1, "938");
  RegisterChild(2, "845");
  std::unique_ptr<Client> centre_845 = ClientOf(kCentre845);
  v1::ListEventsRequest list;
  list.set_local_authority("938");
  list.set_from_beginning(true);
  absl::Status listed = centre_845->ListEvents(list).status();
  EXPECT_EQ(listed.code(), absl::StatusCode::kPermissionDenied) << listed;
  EXPECT_EQ(ErrorReasonOf(listed), v1::AREA_NOT_PERMITTED) << listed;

  for (const std::vector<std::string>& areas :
       {std::vector<std::string>{"938"}, std::vector<std::string>{"845", "938"}}) {
    v1::SubscribeRequest subscribe;
    for (const std::string& area : areas) subscribe.add_local_authorities(area);
    subscribe.set_from_beginning(true);
    std::unique_ptr<FeedSubscription> stream = centre_845->Subscribe(subscribe);
    v1::SubscribeResponse message;
    if (stream->Next(&message)) {
      ADD_FAILURE() << "a stream of another area's feed was opened: " << message.DebugString();
      stream->Cancel();
      while (stream->Next(&message)) {
      }
    }
    absl::Status finished = stream->Finish();
    EXPECT_EQ(finished.code(), absl::StatusCode::kPermissionDenied) << finished;
    EXPECT_EQ(ErrorReasonOf(finished), v1::AREA_NOT_PERMITTED) << finished;
  }
}

TEST_F(AccessServerTest, ACentreReadsTheFeedOfItsOwnArea) {
  const v1::ChildRecord child_845 = RegisterChild(2, "845");
  const v1::ChildRecord child_938 = RegisterChild(1, "938");

  v1::ListEventsRequest list;
  list.set_local_authority("845");
  list.set_from_beginning(true);
  absl::StatusOr<v1::ListEventsResponse> own = ClientOf(kCentre845)->ListEvents(list);
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_EQ(own->events_size(), 1);
  EXPECT_EQ(own->events(0).child_id(), child_845.child_id());

  v1::SubscribeRequest subscribe;
  subscribe.add_local_authorities("845");
  subscribe.set_from_beginning(true);
  std::unique_ptr<FeedSubscription> stream = ClientOf(kCentre845)->Subscribe(subscribe);
  v1::SubscribeResponse message;
  ASSERT_TRUE(stream->Next(&message)) << stream->Finish();
  ASSERT_EQ(message.events_size(), 1);
  EXPECT_EQ(message.events(0).child_id(), child_845.child_id());
  stream->Cancel();

  list.set_local_authority("938");
  absl::StatusOr<v1::ListEventsResponse> births = ClientOf(kCentre938)->ListEvents(list);
  ASSERT_TRUE(births.ok()) << births.status();
  ASSERT_EQ(births->events_size(), 1);
  EXPECT_EQ(births->events(0).kind(), v1::FEED_EVENT_KIND_BIRTH_REGISTERED);
  EXPECT_EQ(births->events(0).child_id(), child_938.child_id());
  EXPECT_EQ(births->events(0).child().given_name(), "Ada");
}

TEST_F(AccessServerTest, ADataTeamCannotChangeAChildOfAnotherArea) {
  const v1::ChildRecord child_845 = RegisterChild(2, "845");
  const std::string nobody = identifiers::GenerateChildId();
  std::unique_ptr<Client> data_team = ClientOf(kDataTeam938);

  const auto move = [](const std::string& request_id, const std::string& child_id) {
    v1::ChangeAddressRequest change;
    change.set_request_id(request_id);
    change.set_child_id(child_id);
    change.add_address_lines("2 Other Road");
    change.set_postcode("RH12 2BB");
    change.set_local_authority("938");
    change.set_recorded_by("Data Team");
    return change;
  };
  absl::Status outside = data_team->ChangeAddress(move("move-1", child_845.child_id())).status();
  absl::Status missing = data_team->ChangeAddress(move("move-2", nobody)).status();
  EXPECT_EQ(outside.code(), absl::StatusCode::kNotFound) << outside;
  EXPECT_EQ(ErrorReasonOf(outside), v1::CHILD_NOT_FOUND) << outside;
  EXPECT_EQ(outside, missing);

  const auto correct = [](const std::string& request_id, const std::string& child_id,
                          int64_t version) {
    v1::CorrectDetailsRequest correction;
    correction.set_request_id(request_id);
    correction.set_child_id(child_id);
    correction.set_expected_version(version);
    correction.set_given_name("Grace");
    correction.set_recorded_by("Data Team");
    return correction;
  };
  outside = data_team->CorrectDetails(correct("fix-1", child_845.child_id(), child_845.version()))
                .status();
  missing = data_team->CorrectDetails(correct("fix-2", nobody, child_845.version())).status();
  EXPECT_EQ(outside.code(), absl::StatusCode::kNotFound) << outside;
  EXPECT_EQ(ErrorReasonOf(outside), v1::CHILD_NOT_FOUND) << outside;
  EXPECT_EQ(outside, missing);

  // Nothing changed: the child is as registered.
  absl::StatusOr<v1::ResolveResponse> seen =
      ClientOf(kHealthVisiting)->Resolve(child_845.child_id());
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->record().version(), child_845.version());
  EXPECT_EQ(seen->record().local_authority(), "845");
  EXPECT_EQ(seen->record().given_name(), "Ada");
}

// DOMAIN.md: "A caller outside a record's area or role learns nothing about it"; WORKSPACE.md:
// a change's RecordScope is checked "against the record as it is when the change runs".
// Undoing a merge changes the survivor too, so a survivor that has since moved to another area
// puts the merge out of reach of the first area's data team, which would otherwise change that
// record and be sent all of it (UndoMergeResponse.survivor), the other area's address included.
TEST_F(AccessServerTest, UndoingAMergeDoesNotReachASurvivorNowInAnotherArea) {
  const v1::ChildRecord survivor = RegisterChild(1, "938");
  const v1::ChildRecord retired = RegisterChild(2, "938");
  std::unique_ptr<Client> team_938 = ClientOf(kDataTeam938);
  v1::MergeRecordsRequest merge;
  merge.set_request_id("merge-1");
  merge.set_surviving_child_id(survivor.child_id());
  merge.set_retired_child_id(retired.child_id());
  merge.set_retired_nhs_number_superseded(true);
  merge.set_recorded_by("Data Team");
  absl::StatusOr<v1::MergeRecordsResponse> merged = team_938->MergeRecords(merge);
  ASSERT_TRUE(merged.ok()) << merged.status();

  // The family moves to 845, then settles at a new address there.
  v1::ChangeAddressRequest away;
  away.set_request_id("move-away");
  away.set_child_id(survivor.child_id());
  away.add_address_lines("9 Far Street");
  away.set_postcode("BN7 2AA");
  away.set_local_authority("845");
  away.set_recorded_by("Data Team");
  ASSERT_TRUE(team_938->ChangeAddress(away).ok());
  v1::ChangeAddressRequest settled = away;
  settled.set_request_id("settled");
  settled.set_address_lines(0, "10 New Home Road");
  settled.set_postcode("BN7 3AA");
  absl::StatusOr<v1::ChangeAddressResponse> moved = ClientOf(kDataTeam845)->ChangeAddress(settled);
  ASSERT_TRUE(moved.ok()) << moved.status();

  v1::UndoMergeRequest undo;
  undo.set_request_id("undo-1");
  undo.set_retired_child_id(retired.child_id());
  undo.set_recorded_by("Data Team");
  absl::StatusOr<v1::UndoMergeResponse> undone = team_938->UndoMerge(undo);
  EXPECT_EQ(undone.status().code(), absl::StatusCode::kNotFound) << undone.status();
  EXPECT_EQ(ErrorReasonOf(undone.status()), v1::CHILD_NOT_FOUND) << undone.status();
  if (undone.ok()) {
    EXPECT_THAT(undone->survivor().address_lines(), Not(Contains("10 New Home Road")));
  }
  absl::StatusOr<v1::ResolveResponse> now = ClientOf(kHealthVisiting)->Resolve(survivor.child_id());
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->record().version(), moved->record().version());
}

// ---- Least data
// -----------------------------------------------------------------------------------

TEST_F(AccessServerTest, EachRoleSeesOnlyTheFieldsItNeeds) {
  const v1::ChildRecord child = RegisterChild(1);
  v1::LinkUpnRequest link;
  link.set_child_id(child.child_id());
  link.set_upn(FictionalUpn(1));
  absl::StatusOr<v1::LinkUpnResponse> linked = ClientOf(kSchool)->LinkUpn(link);
  ASSERT_TRUE(linked.ok()) << linked.status();

  absl::StatusOr<v1::ResolveResponse> health = ClientOf(kHealthVisiting)->Resolve(child.child_id());
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->record().nhs_number(), FictionalNhsNumber(1));
  EXPECT_EQ(health->record().upn(), FictionalUpn(1));
  EXPECT_EQ(health->record().postcode(), "RH12 1AA");
  EXPECT_THAT(health->record().address_lines(), Contains("1 Test Lane"));

  absl::StatusOr<v1::ResolveResponse> school = ClientOf(kSchool)->Resolve(child.child_id());
  ASSERT_TRUE(school.ok()) << school.status();
  EXPECT_EQ(SetFields(school->record()),
            (std::set<std::string>{"child_id", "child_id_display", "nhs_number", "upn",
                                   "given_name", "family_name", "date_of_birth", "status"}));

  absl::StatusOr<v1::ResolveResponse> centre = ClientOf(kCentre938)->Resolve(child.child_id());
  ASSERT_TRUE(centre.ok()) << centre.status();
  const std::set<std::string> centre_sees = SetFields(centre->record());
  for (const char* hidden :
       {"nhs_number", "former_nhs_numbers", "upn", "former_upns", "mother_nhs_number"}) {
    EXPECT_FALSE(centre_sees.contains(hidden)) << hidden;
  }
  EXPECT_EQ(centre->record().given_name(), "Ada");
  EXPECT_EQ(centre->record().postcode(), "RH12 1AA");
}

TEST_F(AccessServerTest, ASensitiveRecordsAddressIsSeenOnlyByTheDataTeam) {
  const v1::ChildRecord child = RegisterChild(1);
  v1::RestrictSharingRequest restrict;
  restrict.set_request_id("sensitive-1");
  restrict.set_child_id(child.child_id());
  restrict.set_sensitive(v1::RESTRICTION_CHANGE_SET);
  restrict.set_recorded_by("Data Team");
  std::unique_ptr<Client> data_team = ClientOf(kDataTeam938);
  absl::StatusOr<v1::RestrictSharingResponse> restricted = data_team->RestrictSharing(restrict);
  ASSERT_TRUE(restricted.ok()) << restricted.status();

  for (const char* agency : {kHealthVisiting, kCentre938}) {
    absl::StatusOr<v1::ResolveResponse> seen = ClientOf(agency)->Resolve(child.child_id());
    ASSERT_TRUE(seen.ok()) << agency << ": " << seen.status();
    EXPECT_THAT(seen->record().address_lines(), IsEmpty()) << agency;
    EXPECT_EQ(seen->record().postcode(), "") << agency;
  }
  absl::StatusOr<v1::ResolveResponse> full = data_team->Resolve(child.child_id());
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_THAT(full->record().address_lines(), Contains("1 Test Lane"));
  EXPECT_EQ(full->record().postcode(), "RH12 1AA");
  EXPECT_TRUE(full->record().sensitive());
}

TEST_F(AccessServerTest, AChildWhoseParentsObjectIsNotFoundByItsAreasCentre) {
  const v1::ChildRecord child = RegisterChild(1);
  std::unique_ptr<Client> centre = ClientOf(kCentre938);
  ASSERT_TRUE(centre->Resolve(child.child_id()).ok());
  v1::RestrictSharingRequest objection;
  objection.set_request_id("objection-1");
  objection.set_child_id(child.child_id());
  objection.set_objection(v1::RESTRICTION_CHANGE_SET);
  objection.set_recorded_by("Data Team");
  std::unique_ptr<Client> data_team = ClientOf(kDataTeam938);
  absl::StatusOr<v1::RestrictSharingResponse> objected = data_team->RestrictSharing(objection);
  ASSERT_TRUE(objected.ok()) << objected.status();

  absl::Status hidden = centre->Resolve(child.child_id()).status();
  EXPECT_EQ(hidden.code(), absl::StatusCode::kNotFound) << hidden;
  EXPECT_EQ(hidden, centre->Resolve(identifiers::GenerateChildId()).status());
  EXPECT_TRUE(data_team->Resolve(child.child_id()).ok());
}

// ---- Notifying systems
// ----------------------------------------------------------------------------

TEST_F(AccessServerTest, AMaternitySystemMayNotNotifyAsAnotherSystem) {
  v1::RegisterBirthRequest birth = FictionalBirth("as-other-1", FictionalNhsNumber(1));
  birth.set_notifying_system("RYJ02");
  absl::Status refused = ClientOf(kMaternity)->RegisterBirth(birth).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_EQ(ErrorReasonOf(refused), v1::NOTIFYING_SYSTEM_NOT_PERMITTED) << refused;
  EXPECT_EQ(ClientOf(kHealthVisiting)->Resolve(FictionalNhsNumber(1)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AccessServerTest, InABulkCallABirthAsAnotherSystemIsRefusedAloneAndTheCallAuditedOnce) {
  const v1::ChildRecord known = RegisterChild(3);  // notified by RXH01
  v1::RegisterBirthsRequest request;
  *request.add_births() = FictionalBirth("bulk-1", FictionalNhsNumber(1));
  v1::RegisterBirthRequest* as_other = request.add_births();
  *as_other = FictionalBirth("bulk-2", FictionalNhsNumber(2));
  as_other->set_notifying_system("RYJ02");
  *request.add_births() = FictionalBirth("bulk-3", FictionalNhsNumber(3));  // the same birth again
  absl::StatusOr<v1::RegisterBirthsResponse> answer = ClientOf(kMaternity)->RegisterBirths(request);
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->results_size(), 3);
  ASSERT_TRUE(answer->results(0).has_registered());
  const std::string child = answer->results(0).registered().record().child_id();
  EXPECT_EQ(answer->results(1).refused().reason(), v1::NOTIFYING_SYSTEM_NOT_PERMITTED);
  EXPECT_EQ(answer->results(1).refused().code(),
            static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(answer->results(2).registered().record().child_id(), known.child_id());
  EXPECT_EQ(ClientOf(kHealthVisiting)->Resolve(FictionalNhsNumber(2)).status().code(),
            absl::StatusCode::kNotFound);

  // One entry for the call, naming both children it returned, durable before the answer came.
  absl::StatusOr<v1::ReadAuditEntriesResponse> log =
      ClientOf(kAuditor)->ReadAuditEntries(v1::ReadAuditEntriesRequest());
  ASSERT_TRUE(log.ok()) << log.status();
  int entries = 0;
  for (const v1::AuditRecord& record : log->records()) {
    v1::AuditEntry entry;
    ASSERT_TRUE(entry.ParseFromString(record.entry()));
    if (entry.method() != "/cir.v1.ChildRegistry/RegisterBirths") continue;
    ++entries;
    EXPECT_EQ(entry.agency_id(), kMaternity);
    EXPECT_EQ(entry.status_code(), 0);
    EXPECT_THAT(entry.child_ids(), ::testing::ElementsAre(child, known.child_id()));
    // The birth refused inside the accepted call leaves its trace.
    ASSERT_EQ(entry.refused_items_size(), 1);
    EXPECT_EQ(entry.refused_items(0).reason(), "NOTIFYING_SYSTEM_NOT_PERMITTED");
    EXPECT_EQ(entry.refused_items(0).count(), 1);
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(AccessServerTest, OnlyAMaternitySystemMayRegisterBirthsInBulk) {
  v1::RegisterBirthsRequest request;
  *request.add_births() = FictionalBirth("bulk-1", FictionalNhsNumber(1));
  absl::Status refused = ClientOf(kSchool)->RegisterBirths(request).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_EQ(ErrorReasonOf(refused), v1::METHOD_NOT_PERMITTED) << refused;
}

TEST_F(AccessServerTest, AnotherSystemNotifyingTheSameBirthLearnsOnlyTheIdentifiers) {
  const v1::ChildRecord child = RegisterChild(1);
  v1::RegisterBirthRequest again = FictionalBirth("ryj-1", FictionalNhsNumber(1));
  again.set_notifying_system("RYJ02");
  again.add_address_lines("1 Test Lane");
  absl::StatusOr<v1::RegisterBirthResponse> other = ClientOf(kOtherMaternity)->RegisterBirth(again);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->created());
  EXPECT_EQ(other->record().child_id(), child.child_id());
  EXPECT_EQ(SetFields(other->record()),
            (std::set<std::string>{"child_id", "child_id_display", "nhs_number"}));

  // The system that notified the child gets the whole record, on a retry and on a new
  // notification of the same birth alike.
  std::unique_ptr<Client> maternity = ClientOf(kMaternity);
  v1::RegisterBirthRequest retry = FictionalBirth("birth-1", FictionalNhsNumber(1));
  retry.add_address_lines("1 Test Lane");
  absl::StatusOr<v1::RegisterBirthResponse> repeated = maternity->RegisterBirth(retry);
  ASSERT_TRUE(repeated.ok()) << repeated.status();
  EXPECT_TRUE(repeated->created());
  EXPECT_EQ(repeated->record().given_name(), "Ada");
  EXPECT_EQ(repeated->record().date_of_birth().year(), 2026);
  EXPECT_EQ(repeated->record().postcode(), "RH12 1AA");
  v1::RegisterBirthRequest second = FictionalBirth("birth-1-again", FictionalNhsNumber(1));
  absl::StatusOr<v1::RegisterBirthResponse> renotified = maternity->RegisterBirth(second);
  ASSERT_TRUE(renotified.ok()) << renotified.status();
  EXPECT_FALSE(renotified->created());
  EXPECT_EQ(renotified->record().given_name(), "Ada");
  EXPECT_EQ(renotified->record().mother_family_name(), "Lovelace-Test");
}

// A second notification of the same birth needs only its NHS number and date of birth: notifying
// again, with another id, must not turn the identifiers-only answer into the whole record, nor
// give the other system reach over the child (an informal death is NOT_FOUND for it).
TEST_F(AccessServerTest, NotifyingTheSameBirthTwiceGivesAnotherSystemNoMoreThanTheIdentifiers) {
  const v1::ChildRecord child = RegisterChild(1);
  std::unique_ptr<Client> other = ClientOf(kOtherMaternity);
  for (const char* id : {"probe-1", "probe-2", "probe-3"}) {
    v1::RegisterBirthRequest again = FictionalBirth(id, FictionalNhsNumber(1));
    again.set_notifying_system("RYJ02");
    absl::StatusOr<v1::RegisterBirthResponse> answer = other->RegisterBirth(again);
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(SetFields(answer->record()),
              (std::set<std::string>{"child_id", "child_id_display", "nhs_number"}))
        << id;
  }
  v1::RecordDeathRequest death;
  death.set_request_id("probe-death-1");
  death.set_child_id(child.child_id());
  death.set_recorded_by("RYJ02 maternity system");
  death.set_notice(v1::DEATH_NOTICE_INFORMAL);
  *death.mutable_date_of_death() = child.date_of_birth();
  absl::Status refused = other->RecordDeath(death).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kNotFound) << refused;
  EXPECT_EQ(ErrorReasonOf(refused), v1::CHILD_NOT_FOUND) << refused;
}

// ---- Deaths
// ---------------------------------------------------------------------------------------

v1::RecordDeathRequest Death(const std::string& request_id, const std::string& child_id,
                             v1::DeathNotice notice) {
  v1::RecordDeathRequest death;
  death.set_request_id(request_id);
  death.set_child_id(child_id);
  death.set_notice(notice);
  if (notice != v1::DEATH_NOTICE_RETRACTION) {
    death.mutable_date_of_death()->set_year(2026);
    death.mutable_date_of_death()->set_month(3);
    death.mutable_date_of_death()->set_day(20);
  }
  death.set_recorded_by("Records Office");
  return death;
}

TEST_F(AccessServerTest, AMaternitySystemMayNotRecordAFormalDeath) {
  const v1::ChildRecord child = RegisterChild(1);
  absl::Status refused =
      ClientOf(kMaternity)
          ->RecordDeath(Death("death-1", child.child_id(), v1::DEATH_NOTICE_FORMAL))
          .status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_EQ(ErrorReasonOf(refused), v1::DEATH_NOTICE_NOT_PERMITTED) << refused;
}

TEST_F(AccessServerTest, AMaternitySystemCannotRecordTheDeathOfAChildItDidNotNotify) {
  const v1::ChildRecord child = RegisterChild(1);
  std::unique_ptr<Client> other = ClientOf(kOtherMaternity);
  absl::Status outside =
      other->RecordDeath(Death("death-1", child.child_id(), v1::DEATH_NOTICE_INFORMAL)).status();
  absl::Status missing =
      other
          ->RecordDeath(Death("death-2", identifiers::GenerateChildId(), v1::DEATH_NOTICE_INFORMAL))
          .status();
  EXPECT_EQ(outside.code(), absl::StatusCode::kNotFound) << outside;
  EXPECT_EQ(ErrorReasonOf(outside), v1::CHILD_NOT_FOUND) << outside;
  EXPECT_EQ(outside, missing);

  absl::StatusOr<v1::RecordDeathResponse> own =
      ClientOf(kMaternity)
          ->RecordDeath(Death("death-1", child.child_id(), v1::DEATH_NOTICE_INFORMAL));
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->record().death_kind(), v1::DEATH_KIND_INFORMAL);
}

TEST_F(AccessServerTest, TheRegistrarRecordsAFormalDeath) {
  const v1::ChildRecord child = RegisterChild(1);
  absl::StatusOr<v1::RecordDeathResponse> recorded =
      ClientOf(kRegistrar)
          ->RecordDeath(Death("death-1", child.child_id(), v1::DEATH_NOTICE_FORMAL));
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_TRUE(recorded->changed());
  EXPECT_EQ(recorded->record().status(), v1::RECORD_STATUS_DECEASED);
  EXPECT_EQ(recorded->record().death_kind(), v1::DEATH_KIND_FORMAL);
  // A registrar sees identifiers and the death, not the child's details.
  EXPECT_EQ(recorded->record().given_name(), "");
  EXPECT_EQ(recorded->record().postcode(), "");
}

// registry.proto, ErrorReason DEATH_NOTICE_NOT_PERMITTED: "a maternity system records informal
// deaths; a registrar formal ones and retractions", and RecordDeath: "an informal notice after a
// formal death changes nothing".
// A maternity system's retraction would otherwise undo a death the registrar registered.
TEST_F(AccessServerTest, AMaternitySystemMayNotRetractADeathTheRegistrarRegistered) {
  const v1::ChildRecord child = RegisterChild(1);
  ASSERT_TRUE(ClientOf(kRegistrar)
                  ->RecordDeath(Death("death-1", child.child_id(), v1::DEATH_NOTICE_FORMAL))
                  .ok());
  absl::StatusOr<v1::RecordDeathResponse> retracted =
      ClientOf(kMaternity)
          ->RecordDeath(Death("retract-1", child.child_id(), v1::DEATH_NOTICE_RETRACTION));
  EXPECT_EQ(retracted.status().code(), absl::StatusCode::kPermissionDenied) << retracted.status();
  EXPECT_EQ(ErrorReasonOf(retracted.status()), v1::DEATH_NOTICE_NOT_PERMITTED);
  absl::StatusOr<v1::ResolveResponse> seen = ClientOf(kHealthVisiting)->Resolve(child.child_id());
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->record().death_kind(), v1::DEATH_KIND_FORMAL);
}

// ---- Request ids
// ----------------------------------------------------------------------------------

TEST_F(AccessServerTest, RequestIdsAreEachAgencysOwn) {
  const v1::ChildRecord first = RegisterChild(1);
  const v1::ChildRecord second = RegisterChild(2);
  const auto move = [](const std::string& request_id, const std::string& child_id,
                       const std::string& line) {
    v1::ChangeAddressRequest change;
    change.set_request_id(request_id);
    change.set_child_id(child_id);
    change.add_address_lines(line);
    change.set_postcode("RH12 2BB");
    change.set_local_authority("938");
    change.set_recorded_by("Data Team");
    return change;
  };
  std::unique_ptr<Client> team_a = ClientOf(kDataTeam938);
  std::unique_ptr<Client> team_b = ClientOf(kOtherDataTeam938);
  absl::StatusOr<v1::ChangeAddressResponse> a =
      team_a->ChangeAddress(move("same-id", first.child_id(), "2 A Road"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->changed());
  absl::StatusOr<v1::ChangeAddressResponse> b =
      team_b->ChangeAddress(move("same-id", second.child_id(), "3 B Road"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(b->changed());
  EXPECT_EQ(b->record().child_id(), second.child_id());
  EXPECT_THAT(b->record().address_lines(), Contains("3 B Road"));

  // Within one agency the id stays bound to its request: a retry is answered as before, another
  // request is refused.
  absl::StatusOr<v1::ChangeAddressResponse> retried =
      team_a->ChangeAddress(move("same-id", first.child_id(), "2 A Road"));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->changed());
  EXPECT_EQ(retried->record().version(), a->record().version());
  absl::Status reused =
      team_a->ChangeAddress(move("same-id", second.child_id(), "4 C Road")).status();
  EXPECT_EQ(reused.code(), absl::StatusCode::kAlreadyExists) << reused;
  EXPECT_EQ(ErrorReasonOf(reused), v1::REQUEST_ID_REUSED_WITH_OTHER_DETAILS) << reused;

  // Another agency sending exactly A's request makes a request of its own (which finds the
  // address already changed), not a replay of A's answer.
  absl::StatusOr<v1::ChangeAddressResponse> a_moves =
      team_a->ChangeAddress(move("next-id", first.child_id(), "5 A Road"));
  ASSERT_TRUE(a_moves.ok()) << a_moves.status();
  EXPECT_TRUE(a_moves->changed());
  absl::StatusOr<v1::ChangeAddressResponse> b_copies =
      team_b->ChangeAddress(move("next-id", first.child_id(), "5 A Road"));
  ASSERT_TRUE(b_copies.ok()) << b_copies.status();
  EXPECT_FALSE(b_copies->changed());
}

// ---- Reloads
// --------------------------------------------------------------------------------------

TEST_F(AccessServerTest, AnAgencyAddedToTheAccessFileIsLetInWithinSeconds) {
  const AgencySpec late{"late-school", access::ROLE_SCHOOL, {}, {}};
  IssueCertificate(late.id, {.common_name = late.id, .uri_sans = {AgencyUri(late.id)}});
  std::unique_ptr<Client> client = ClientWith(CredentialsOf(late.id));
  absl::Status before = client->DescribeRegistry().status();
  EXPECT_EQ(before.code(), absl::StatusCode::kUnauthenticated) << before;

  ReplaceFile(Pki("access.textproto"), AccessConfig(AgencyBlock(late)));
  EXPECT_TRUE(Eventually(absl::Seconds(10), [&] { return client->DescribeRegistry().ok(); }));
}

TEST_F(AccessServerTest, AnAccessFileThatBreaksARuleLeavesThePolicyInForce) {
  // A children's centre without a local authority breaks a rule; the file also drops the school.
  std::string broken = absl::StrCat("trust_domain: \"", kTrustDomain, "\"\n");
  for (const AgencySpec& agency : Agencies()) {
    if (agency.id != kSchool) absl::StrAppend(&broken, AgencyBlock(agency));
  }
  absl::StrAppend(&broken, AgencyBlock({"centre-nowhere", access::ROLE_CHILDRENS_CENTRE, {}, {}}));
  ReplaceFile(Pki("access.textproto"), broken);

  // The server looks every second: over three seconds, the school is never refused.
  std::unique_ptr<Client> school = ClientOf(kSchool);
  const absl::Time until = absl::Now() + absl::Seconds(3);
  while (absl::Now() < until) {
    absl::Status described = school->DescribeRegistry().status();
    ASSERT_TRUE(described.ok()) << described;
    absl::SleepFor(absl::Milliseconds(200));
  }
  absl::Status reloaded = server_->ReloadAccessPolicy();
  EXPECT_EQ(reloaded.code(), absl::StatusCode::kInvalidArgument) << reloaded;
  EXPECT_THAT(reloaded.message(), HasSubstr("access.textproto:"));
  EXPECT_TRUE(school->DescribeRegistry().ok());
  EXPECT_TRUE(ClientOf(kHealthVisiting)->DescribeRegistry().ok());
}

TEST_F(AccessServerTest, ACertificateRevokedWhileServingIsRefusedWithinSeconds) {
  ASSERT_TRUE(ClientOf(kSchool)->DescribeRegistry().ok());
  ca_.Revoke(certificates_.at(kSchool));
  WriteCrl();
  // Each attempt on a connection of its own: a revocation stops new handshakes.
  absl::Status last;
  EXPECT_TRUE(Eventually(absl::Seconds(10), [&] {
    last = ClientOf(kSchool)->DescribeRegistry().status();
    return !last.ok();
  }));
  EXPECT_EQ(last.code(), absl::StatusCode::kUnavailable) << last;
  absl::Status other = ClientOf(kHealthVisiting)->DescribeRegistry().status();
  EXPECT_TRUE(other.ok()) << other;
}

}  // namespace
}  // namespace cir::server
