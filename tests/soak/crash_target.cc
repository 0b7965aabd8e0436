#include "tests/soak/crash_target.h"

#include <signal.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/registry_server.h"
#include "tests/testing/fault_injection_fs.h"
#include "tests/testing/in_process_access.h"
#include "tests/testing/server_process.h"
#include "tests/testing/test_access.h"

namespace cir::soak {
namespace {

class KilledProcess final : public CrashTarget {
 public:
  KilledProcess(const std::string& server_path, const std::string& data_dir,
                std::vector<std::string> extra_args)
      : data_dir_(data_dir), extra_args_(std::move(extra_args)), server_(server_path, data_dir) {}

  bool Start() override {
    std::vector<std::string> args = {
        "--audit-checkpoint-seconds", "1", "--feed-heartbeat-seconds", "0.2", "--backup-dir",
        data_dir_ + ".backups"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    return server_.Start(args);
  }
  std::string address() const override { return server_.address(); }
  void Crash() override { server_.Signal(SIGKILL); }
  void Stop() override { server_.Signal(SIGTERM); }
  // testing::ServerProcess keeps its keys beside the data folder.
  std::string signing_key_file() const override { return data_dir_ + ".audit-signing.key"; }
  std::string log() override { return server_.log(); }
  int pid() const override { return server_.pid(); }

 private:
  const std::string data_dir_;
  const std::vector<std::string> extra_args_;
  testing::ServerProcess server_;
};

class PowerCut final : public CrashTarget {
 public:
  explicit PowerCut(const std::string& data_dir) : data_dir_(data_dir) {}
  ~PowerCut() override { Stop(); }

  bool Start() override {
    Stop();
    const std::string master_key = data_dir_ + ".master.key";
    if (!testing::WriteMasterKeyFile(master_key) ||
        !testing::WriteSigningKeyFile(signing_key_file())) {
      log_ = "cannot write the keys beside " + data_dir_;
      return false;
    }
    disk_ = std::make_shared<testing::FaultInjectionFs>();
    server::RegistryServerOptions options;
    testing::UsePlaintextTestAccess(options);
    options.listen_address = "127.0.0.1:0";
    options.store.path = data_dir_;
    options.store.create_if_missing = true;
    options.store.file_system = disk_;
    options.store.encryption = storage::StoreEncryption{.master_key_file = master_key};
    options.store.write_recovery_interval = absl::Milliseconds(50);
    options.registry.allow_test_nhs_numbers = true;
    options.feed.heartbeat_interval = absl::Milliseconds(200);
    options.audit_signing_key = signing_key_file();
    options.audit_checkpoint_interval = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<server::RegistryServer>> server =
        server::RegistryServer::Start(options);
    if (!server.ok()) {
      log_ = server.status().ToString();
      return false;
    }
    server_ = *std::move(server);
    return true;
  }
  std::string address() const override { return server_ == nullptr ? "" : server_->address(); }
  // From the cut on, every write and sync fails; the server is then stopped, and the files cut
  // back to what was synced, before the next start (or at Stop).
  void Crash() override {
    if (disk_ != nullptr) disk_->CutPower();
  }
  void Stop() override {
    if (server_ != nullptr) {
      server_->Stop(absl::Seconds(2)).IgnoreError();
      server_.reset();
    }
    if (disk_ != nullptr) {
      disk_->DropUnsyncedData();
      disk_.reset();
    }
  }
  std::string signing_key_file() const override { return data_dir_ + ".audit-signing.key"; }
  std::string log() override { return log_; }
  int pid() const override { return getpid(); }

 private:
  const std::string data_dir_;
  std::shared_ptr<testing::FaultInjectionFs> disk_;
  std::unique_ptr<server::RegistryServer> server_;
  std::string log_;
};

}  // namespace

std::unique_ptr<CrashTarget> KilledServerProcess(const std::string& server_path,
                                                 const std::string& data_dir,
                                                 std::vector<std::string> extra_args) {
  return std::make_unique<KilledProcess>(server_path, data_dir, std::move(extra_args));
}

std::unique_ptr<CrashTarget> PowerCutServer(const std::string& data_dir) {
  return std::make_unique<PowerCut>(data_dir);
}

}  // namespace cir::soak
