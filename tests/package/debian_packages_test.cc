// The registry's Debian packages as CPack makes them from the build (cmake/debian_packages.cmake):
// what each holds and needs, and the server package's settings, unit and store initialisation
// run for real: the packaged cir-server, with the packaged settings file (its paths moved under a
// test folder), creates its store and serves a child over mutual TLS.

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cir/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/client_package.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace cir {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

using testing::CommandRun;
using testing::RunCommand;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The packages are made by CPack into CIR_PACKAGES_DIR before these tests run (ctest's fixture
// debian_packages: `cpack --config build/CPackConfig.cmake -B build/packages`).
class DebianPackagesTest : public ::testing::Test {
 protected:
  // The path of package `name`'s .deb (name_version_architecture.deb).
  static std::string Deb(const std::string& name) {
    const std::string prefix = absl::StrCat(name, "_", CIR_VERSION, "_");
    std::error_code error;
    for (const fs::directory_entry& entry : fs::directory_iterator(CIR_PACKAGES_DIR, error)) {
      const std::string file = entry.path().filename();
      if (file.starts_with(prefix) && file.ends_with(".deb")) return entry.path();
    }
    ADD_FAILURE() << "no package " << name << " in " << CIR_PACKAGES_DIR
                  << ": ctest makes them first (the test debian_packages_made)";
    return "/nonexistent.deb";
  }

  // A field of the package's control file.
  static std::string Field(const std::string& name, const std::string& field) {
    CommandRun run = RunCommand("dpkg-deb --field " + Deb(name) + " " + field);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return std::string(absl::StripSuffix(run.output, "\n"));
  }

  // The files and links the package installs (not its folders), as paths without the leading
  // "./", e.g. "usr/bin/cir".
  static std::set<std::string> Files(const std::string& name) {
    CommandRun run = RunCommand("dpkg-deb --contents " + Deb(name));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    std::set<std::string> files;
    for (absl::string_view line : absl::StrSplit(run.output, '\n', absl::SkipEmpty())) {
      if (absl::StartsWith(line, "d")) continue;
      const size_t at = line.find(" ./");
      if (at == absl::string_view::npos) continue;
      absl::string_view path = line.substr(at + 3);
      path = path.substr(0, path.find(" -> "));
      files.emplace(path);
    }
    return files;
  }

  // One of the package's control files (control, conffiles, postinst, ...).
  static std::string ControlFile(const std::string& name, const std::string& file) {
    CommandRun run =
        RunCommand("dpkg-deb --ctrl-tarfile " + Deb(name) + " | tar --extract --to-stdout ./" +
                   file);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return run.output;
  }

  // Unpacks the package's files into `folder`, as dpkg would into /.
  static void Unpack(const std::string& name, const std::string& folder) {
    CommandRun run = RunCommand("dpkg-deb --extract " + Deb(name) + " " + folder);
    ASSERT_EQ(run.exit_code, 0) << run.output;
  }
};

TEST_F(DebianPackagesTest, TheRuntimeLibraryPackageHoldsTheSharedLibraryAlone) {
  EXPECT_THAT(Files("libcir-client0"),
              UnorderedElementsAre("usr/lib/libcir-client.so.0",
                                   absl::StrCat("usr/lib/libcir-client.so.", CIR_VERSION)));
  EXPECT_EQ(Field("libcir-client0", "Section"), "libs");
  // The libraries it needs come from its ELF dependencies: gRPC, and nothing of the store.
  EXPECT_THAT(Field("libcir-client0", "Depends"),
              AllOf(HasSubstr("libgrpc++"), HasSubstr("libprotobuf"), Not(HasSubstr("rocksdb")),
                    Not(HasSubstr("libssl"))));
  // Programs built against it depend on it through its shlibs, and ldconfig runs on install.
  EXPECT_EQ(ControlFile("libcir-client0", "shlibs"),
            absl::StrCat("libcir-client 0 libcir-client0 (>= ", CIR_VERSION, ")\n"));
  EXPECT_THAT(ControlFile("libcir-client0", "postinst"), HasSubstr("ldconfig"));
}

TEST_F(DebianPackagesTest, TheDevelopmentPackageHoldsWhatABuildAgainstTheLibraryNeeds) {
  const std::set<std::string> files = Files("libcir-client-dev");
  EXPECT_THAT(files, IsSupersetOf({"usr/include/cir/client.h", "usr/include/cir/v1/registry.pb.h",
                                   "usr/lib/libcir-client.so", "usr/lib/cmake/cir/cirConfig.cmake",
                                   "usr/lib/cmake/cir/cirConfigVersion.cmake",
                                   "usr/lib/cmake/cir/cirTargets.cmake",
                                   "usr/lib/pkgconfig/cir.pc",
                                   "usr/share/cir/proto/cir/v1/registry.proto"}));
  EXPECT_THAT(files, Not(Contains(HasSubstr("libcir-client.so.0"))));
  // The runtime at exactly this version, and the headers its headers include.
  EXPECT_THAT(Field("libcir-client-dev", "Depends"),
              AllOf(HasSubstr(absl::StrCat("libcir-client0 (= ", CIR_VERSION, ")")),
                    HasSubstr("libprotobuf-dev"), HasSubstr("libabsl-dev")));
}

TEST_F(DebianPackagesTest, TheCommandLinePackageHoldsACirToolThatRunsWithItsManPageAndCompletion) {
  EXPECT_THAT(Files("cir-cli"), IsSupersetOf({"usr/bin/cir", "usr/share/man/man1/cir.1",
                                              "usr/share/bash-completion/completions/cir"}));
  testing::TempDir root;
  Unpack("cir-cli", root.path().string());
  CommandRun help = RunCommand(root.Sub("usr/bin/cir") + " --help");
  EXPECT_EQ(help.exit_code, 0) << help.output;
  EXPECT_THAT(help.output, HasSubstr("resolve"));
  // The page and the script are what the packaged tool makes of itself.
  EXPECT_EQ(ReadFile(root.Sub("usr/share/man/man1/cir.1")),
            RunCommand(root.Sub("usr/bin/cir") + " man").output);
  EXPECT_THAT(ReadFile(root.Sub("usr/share/bash-completion/completions/cir")),
              HasSubstr("complete -o filenames -F _cir cir\n"));
}

TEST_F(DebianPackagesTest, TheServerPackageRunsTheServerUnderSystemdAsItsOwnUser) {
  EXPECT_THAT(Files("cir-server"),
              IsSupersetOf({"usr/bin/cir-server", "usr/bin/cir-admin",
                            "lib/systemd/system/cir-server.service", "etc/cir/cir-server.conf"}));
  EXPECT_THAT(Field("cir-server", "Depends"),
              AllOf(HasSubstr("adduser"), HasSubstr("openssl"), HasSubstr("libjemalloc"),
                    HasSubstr("libprometheus-cpp")));
  // The settings file is the operator's: an upgrade keeps their changes.
  EXPECT_EQ(ControlFile("cir-server", "conffiles"), "/etc/cir/cir-server.conf\n");

  testing::TempDir root;
  Unpack("cir-server", root.path().string());
  const std::string unit = ReadFile(root.Sub("lib/systemd/system/cir-server.service"));
  EXPECT_THAT(unit, HasSubstr("\nUser=cir\n"));
  EXPECT_THAT(unit, HasSubstr("\nExecStart=/usr/bin/cir-server --config /etc/cir/cir-server.conf\n"));
  EXPECT_THAT(unit, HasSubstr("\nStateDirectory=cir\n"));
  EXPECT_THAT(unit, HasSubstr("\nReadWritePaths=/var/backups/cir\n"));
  // An unmounted data volume is not served as an empty registry.
  EXPECT_THAT(unit, HasSubstr("\nAssertPathExists=/var/lib/cir/store/CURRENT\n"));
  EXPECT_THAT(unit, HasSubstr("\nRequiresMountsFor=/var/lib/cir\n"));
  // The sandbox, as systemd itself rates it: exposure 1.5 of 10 as written, 4.3 with only the
  // file system read-only and no capabilities. The threshold fails the test above 2.
  CommandRun security =
      RunCommand("systemd-analyze security --offline=true --threshold=20 --no-pager " +
                 root.Sub("lib/systemd/system/cir-server.service"));
  EXPECT_EQ(security.exit_code, 0) << security.output;
  EXPECT_THAT(security.output, HasSubstr("Overall exposure level for cir-server.service: 1."));
  EXPECT_THAT(unit, HasSubstr("\nSystemCallFilter=@system-service\n"));

  // The maintainer scripts are valid shell; postinst makes the user, the keys and the store.
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    const std::string path = root.Sub(std::string(script) + ".sh");
    std::ofstream(path) << ControlFile("cir-server", script);
    CommandRun check = RunCommand("sh -n " + path);
    EXPECT_EQ(check.exit_code, 0) << script << ": " << check.output;
  }
  const std::string postinst = ControlFile("cir-server", "postinst");
  EXPECT_THAT(postinst, HasSubstr("adduser --system --group"));
  EXPECT_THAT(postinst, HasSubstr("/etc/cir/keys/master.key"));
  EXPECT_THAT(postinst, HasSubstr("/etc/cir/keys/audit-signing.key"));
  EXPECT_THAT(postinst,
              HasSubstr("runuser -u cir -- /usr/bin/cir-server --config /etc/cir/cir-server.conf "
                        "--init-store"));
}

// The packaged server, unpacked under a test folder, with the packaged settings file whose
// operator paths (/etc/cir, /var/lib/cir, /var/backups/cir) are moved under that folder, and the
// operator's files put where the settings name them: what an operator does after installing.
class PackagedServerTest : public DebianPackagesTest {
 protected:
  void SetUp() override {
    Unpack("cir-server", root_.path().string());
    std::string settings = ReadFile(root_.Sub("etc/cir/cir-server.conf"));
    // Every path the settings name is one of the operator's folders.
    for (absl::string_view line : absl::StrSplit(settings, '\n')) {
      const size_t quote = line.find("\"/");
      if (absl::StartsWith(line, "#") || quote == absl::string_view::npos) continue;
      absl::string_view path = line.substr(quote + 1);
      EXPECT_TRUE(absl::StartsWith(path, "/etc/cir/") || absl::StartsWith(path, "/var/lib/cir/") ||
                  absl::StartsWith(path, "/var/backups/cir"))
          << line;
    }
    settings = absl::StrReplaceAll(settings, {{"\"/etc/cir", "\"" + root_.Sub("etc/cir")},
                                              {"\"/var/lib/cir", "\"" + root_.Sub("var/lib/cir")},
                                              {"\"/var/backups/cir", "\"" + root_.Sub("var/backups/cir")}});
    settings_ = root_.Sub("etc/cir/cir-server.test.conf");
    std::ofstream(settings_) << settings;

    // The keys postinst makes, and the operator's TLS files and access configuration: a
    // development PKI (scripts/dev-pki), copied where the settings name them.
    const std::string pki = root_.Sub("pki");
    CommandRun made = RunCommand(std::string(CIR_SOURCE_DIR) + "/scripts/dev-pki " + pki);
    ASSERT_EQ(made.exit_code, 0) << made.output;
    const std::string etc = root_.Sub("etc/cir");
    CommandRun placed = RunCommand(absl::StrCat(
        "install -d -m 700 ", etc, "/keys ", root_.Sub("var/lib/cir"), " ",
        root_.Sub("var/backups/cir"), " && install -d ", etc, "/tls/crl",
        " && install -m 600 ", pki, "/master.key ", pki, "/audit-signing.key ", etc, "/keys/",
        " && install -m 644 ", pki, "/access.textproto ", etc, "/",
        " && install -m 644 ", pki, "/ca.pem ", etc, "/tls/agencies-ca.pem",
        " && install -m 644 ", pki, "/crl/ca.crl.pem ", etc, "/tls/crl/",
        " && install -m 644 ", pki, "/server.pem ", etc, "/tls/server.pem",
        " && install -m 600 ", pki, "/server.key ", etc, "/tls/server.key"));
    ASSERT_EQ(placed.exit_code, 0) << placed.output;
  }

  std::string ServerBinary() const { return root_.Sub("usr/bin/cir-server"); }
  std::string Store() const { return root_.Sub("var/lib/cir/store"); }
  std::string Pki(const std::string& file) const { return root_.Sub("pki/" + file); }

  // cir-server --config <the settings> ARGS, as postinst runs it.
  CommandRun RunServer(const std::string& args) {
    return RunCommand(ServerBinary() + " --config " + settings_ + " " + args);
  }

  testing::TempDir root_;
  std::string settings_;
};

TEST_F(PackagedServerTest, InitStoreMakesTheStoreOnceAndLeavesItAfterwards) {
  CommandRun first = RunServer("--init-store");
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("an empty store is made in " + Store()));
  // What the unit asserts before it starts the server.
  EXPECT_TRUE(fs::exists(Store() + "/CURRENT"));

  CommandRun again = RunServer("--init-store");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("a store is already in " + Store() + "; left as it is"));
}

TEST_F(PackagedServerTest, InitStoreMakesNoStoreInAFolderThatHoldsSomethingElse) {
  // As an unmounted volume's mount point may: never taken for a place to start afresh.
  fs::create_directories(Store());
  std::ofstream(Store() + "/lost+found.txt") << "not a store\n";
  CommandRun run = RunServer("--init-store");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("the folder is not empty"));
  EXPECT_FALSE(fs::exists(Store() + "/CURRENT"));
}

TEST_F(PackagedServerTest, AMistypedSettingIsRefusedNotIgnored) {
  std::ofstream(settings_, std::ios::app) << "grace-second = 20\n";
  CommandRun run = RunServer("--init-store");
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("grace-second"));
  EXPECT_FALSE(fs::exists(Store() + "/CURRENT"));
}

TEST_F(PackagedServerTest, WithoutItsStoreTheServerDoesNotStart) {
  CommandRun run = RunServer("--listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0");
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("could not start"));
  EXPECT_FALSE(fs::exists(Store() + "/CURRENT"));
}

TEST_F(PackagedServerTest, ThePackagedSettingsServeAChildOverMutualTls) {
  ASSERT_EQ(RunServer("--init-store").exit_code, 0);
  testing::ServerProcess server(ServerBinary(), Store());
  server.set_arguments_only(true);
  ASSERT_TRUE(server.Start({"--config", settings_, "--metrics-listen", "127.0.0.1:0",
                            "--allow-test-nhs-numbers"}))
      << server.log();
  // The settings ask for the log as JSON lines.
  EXPECT_THAT(server.log(), HasSubstr(R"({"time":")"));

  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = MutualTlsFromFiles(
      {.ca_file = Pki("ca.pem"), .certificate_file = Pki("bench.pem"), .key_file = Pki("bench.key")});
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  Client registry({.target = server.address(),
                   .credentials = *credentials,
                   .end_user = "operator-1",
                   .purpose_of_use = "DIRECT_CARE"});
  v1::RegisterBirthRequest birth =
      testing::FictionalBirth("packaged-1", testing::FictionalNhsNumber(1));
  birth.set_notifying_system("CIRBENCH");  // dev-bench's, in scripts/dev-pki
  absl::StatusOr<v1::RegisterBirthResponse> born = registry.RegisterBirth(birth);
  ASSERT_TRUE(born.ok()) << born.status();
  absl::StatusOr<v1::ResolveResponse> found = registry.Resolve(testing::FictionalNhsNumber(1));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->record().child_id(), born->record().child_id());
}

}  // namespace
}  // namespace cir
