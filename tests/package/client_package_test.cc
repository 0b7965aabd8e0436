// The client library as an agency installs it: `cmake --install` of the client's components into
// a folder of the test's own, then the quickstart example (examples/quickstart) built out of tree
// against that folder, by find_package(cir) and by pkg-config, and run against a real server.
#include "tests/testing/client_package.h"

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "cir/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/installed_client_package.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"

namespace cir {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using testing::CommandRun;
using testing::RunCommand;

// One install for the whole suite: it is what every test reads.
class ClientPackageTest : public testing::InstalledClientPackageTest {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()) << server_.log(); }

  // A child registered through the in-tree client; its NHS number is what the program resolves.
  std::string RegisterAChild(const std::string& nhs_number) {
    Client registry({.target = server_.address()});
    absl::StatusOr<v1::RegisterBirthResponse> born =
        registry.RegisterBirth(testing::FictionalBirth("package-1", nhs_number));
    EXPECT_TRUE(born.ok()) << born.status();
    return born.ok() ? born->record().child_id_display() : "";
  }

  // Runs the built quickstart against the server, as the test agency acting for its test user.
  CommandRun Quickstart(const std::string& binary, const std::string& identifier) {
    return RunCommand("CIR_END_USER=" + std::string(testing::kTestEndUser) +
               " CIR_PURPOSE_OF_USE=" + testing::kTestPurpose + " LD_LIBRARY_PATH=" +
               LibDir() + " " + binary + " " + server_.address() + " " + identifier);
  }

  testing::TempDir dir_;
  testing::ServerProcess server_{CIR_SERVER_PATH, dir_.Sub("db")};
};

TEST_F(ClientPackageTest, AProgramBuiltByFindPackageResolvesAChild) {
  const std::string child_id = RegisterAChild(testing::FictionalNhsNumber(501));
  const std::string build = dir_.Sub("build-quickstart");
  CommandRun compile = testing::BuildAgainstPackage(
      std::string(CIR_SOURCE_DIR) + "/examples/quickstart", build, Prefix());
  ASSERT_EQ(compile.exit_code, 0) << compile.output;

  CommandRun resolved = Quickstart(build + "/quickstart", testing::FictionalNhsNumber(501));
  EXPECT_EQ(resolved.exit_code, 0) << resolved.output;
  EXPECT_EQ(resolved.output, child_id + "\n");

  CommandRun unknown = Quickstart(build + "/quickstart", testing::FictionalNhsNumber(502));
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_THAT(unknown.output, ::testing::StartsWith("IDENTIFIER_NOT_FOUND: "));
}

TEST_F(ClientPackageTest, AProgramBuiltWithPkgConfigResolvesAChild) {
  const std::string child_id = RegisterAChild(testing::FictionalNhsNumber(503));
  const std::string binary = dir_.Sub("quickstart-pkg-config");
  CommandRun compile =
      RunCommand("PKG_CONFIG_PATH=" + LibDir() + "/pkgconfig c++ -std=c++17 -o " + binary + " " +
          std::string(CIR_SOURCE_DIR) + "/examples/quickstart/quickstart.cc $(PKG_CONFIG_PATH=" +
          LibDir() + "/pkgconfig pkg-config --cflags --libs cir)");
  ASSERT_EQ(compile.exit_code, 0) << compile.output;

  CommandRun resolved = Quickstart(binary, testing::FictionalNhsNumber(503));
  EXPECT_EQ(resolved.exit_code, 0) << resolved.output;
  EXPECT_EQ(resolved.output, child_id + "\n");
}

// The package holds the public contract and nothing of the registry's insides: no storage
// records, no copy of gRPC's health.proto or of Google's status protos, no RocksDB.
TEST_F(ClientPackageTest, ThePackageHoldsOnlyThePublicContract) {
  std::set<std::string> headers;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(Prefix())) {
    if (entry.path().extension() == ".h") {
      headers.insert(fs::relative(entry.path(), Prefix() + "/include").string());
    }
  }
  EXPECT_EQ(headers, (std::set<std::string>{"cir/client.h", "cir/v1/registry.pb.h"}));

  const std::string library = LibDir() + "/libcir-client.so";
  CommandRun needed = RunCommand("objdump -p " + library);
  ASSERT_EQ(needed.exit_code, 0) << needed.output;
  EXPECT_THAT(needed.output, HasSubstr("libgrpc++.so"));
  EXPECT_THAT(needed.output, Not(HasSubstr("rocksdb")));

  // No proto of anyone else's is compiled in: protobuf registers every file it holds by name,
  // and a program holding its own copy of one would abort at start ("File already exists").
  CommandRun names = RunCommand("strings " + library);
  ASSERT_EQ(names.exit_code, 0) << names.output;
  EXPECT_THAT(names.output, HasSubstr("cir/v1/registry.proto"));
  for (const char* foreign : {"grpc/health/v1/health.proto", "google/rpc/status.proto",
                              "google/rpc/error_details.proto", "storage/stored_records.proto"}) {
    EXPECT_THAT(names.output, Not(HasSubstr(foreign)));
  }

  // Every symbol the library exports is the registry's own: cir::, the vtables and type
  // information of its classes, protobuf's arena constructors of its messages, its descriptor.
  CommandRun exported = RunCommand("nm -DC --defined-only " + library);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const std::regex ours(
      "^[0-9a-f]+ [A-Za-z] (cir::|vtable for cir::|typeinfo for cir::|typeinfo name for cir::|"
      "google::protobuf::Arena::CreateMaybeMessage<cir::|descriptor_table_cir_2fv1_2fregistry_)");
  std::istringstream lines(exported.output);
  int registry_symbols = 0;
  for (std::string line; std::getline(lines, line);) {
    if (std::regex_search(line, ours)) {
      ++registry_symbols;
    } else {
      ADD_FAILURE() << "exported: " << line;
    }
  }
  EXPECT_GT(registry_symbols, 100);
}

}  // namespace
}  // namespace cir
