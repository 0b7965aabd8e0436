#include "tests/testing/server_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>

#include "tests/testing/test_access.h"

namespace cir::testing {
namespace {

constexpr char kServingMarker[] = "serving on 127.0.0.1:";

}  // namespace

ServerProcess::ServerProcess(std::string binary, std::string data_dir)
    : binary_(std::move(binary)), data_dir_(std::move(data_dir)) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Signal(SIGKILL);
  if (drainer_.joinable()) drainer_.join();
}

bool ServerProcess::Start(const std::vector<std::string>& extra_args) {
  if (drainer_.joinable()) drainer_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    log_.clear();
  }
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return false;
  std::vector<std::string> args = {binary_, "--listen",
                                   "127.0.0.1:" + std::to_string(listen_port_)};
  if (arguments_only_) {
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return Spawn(args, pipe_fds);
  }
  args.insert(args.end(), {"--data-dir", data_dir_, "--create-if-missing"});
  if (test_environment_) args.push_back("--allow-test-nhs-numbers");
  // The store is encrypted under a master key of the test's own, beside the data folder.
  if (store_key_ == StoreKey::kMasterKey) {
    const std::string master_key = data_dir_ + ".master.key";
    if (!WriteMasterKeyFile(master_key)) return false;
    args.insert(args.end(), {"--master-key-file", master_key});
  } else if (store_key_ == StoreKey::kUnencrypted) {
    args.push_back("--unsafe-unencrypted-store");
  }
  const std::string signing_key = data_dir_ + ".audit-signing.key";
  if (!WriteSigningKeyFile(signing_key)) return false;
  args.insert(args.end(), {"--audit-signing-key", signing_key});
  if (plaintext_test_access_) {
    const std::string access_config = data_dir_ + ".access.textproto";
    if (!WriteTextFile(access_config, TestAccessConfig())) return false;
    args.insert(args.end(),
                {"--insecure-plaintext-for-tests", kTestAgency, "--access-config", access_config});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return Spawn(args, pipe_fds);
}

bool ServerProcess::Spawn(std::vector<std::string> args, const int pipe_fds[2]) {
  std::vector<char*> argv;  // built before fork: the child may only make async-signal-safe calls
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  // Read the log until the serving line (or the end: the server failed to start).
  std::string seen;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    seen.append(buffer, static_cast<size_t>(n));
    size_t at = seen.find(kServingMarker);
    if (at != std::string::npos && seen.find(',', at) != std::string::npos) {
      port_ = std::atoi(seen.c_str() + at + sizeof kServingMarker - 1);
      break;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    log_ = seen;
  }
  drainer_ = std::thread([this, fd = pipe_fds[0]] { DrainLog(fd); });
  return port_ > 0;
}

void ServerProcess::DrainLog(int fd) {
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    log_.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
}

int ServerProcess::Signal(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  port_ = 0;
  return status;
}

std::string ServerProcess::log() {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

}  // namespace cir::testing
