#ifndef CIR_TESTS_TESTING_SERVER_PROCESS_H_
#define CIR_TESTS_TESTING_SERVER_PROCESS_H_

#include <sys/types.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cir::testing {

// A cir-server running as a child process on 127.0.0.1 (port 0 unless set_port) over `data_dir`, as
// a test environment (fictional children, NHS numbers 999 ...), for tests that must kill a real
// server (SIGKILL) or drive the real binaries. Start() returns once the server logs that it is
// serving; the bound port is read from that line.
class ServerProcess {
 public:
  ServerProcess(std::string binary, std::string data_dir);
  ~ServerProcess();  // kills the server if it still runs

  // Whether Start runs the server as a test environment (--allow-test-nhs-numbers). Default: true.
  void set_test_environment(bool test) { test_environment_ = test; }
  // Whether Start serves plaintext as kTestAgency (testing/test_access.h) with TestAccessConfig(),
  // written beside the data folder. Default: true; a test of TLS passes its own flags instead.
  void set_plaintext_test_access(bool plaintext) { plaintext_test_access_ = plaintext; }
  // How Start keeps the store: encrypted under a master key of the test's own (written beside
  // the data folder; the default), unencrypted (--unsafe-unencrypted-store), or with neither
  // option given (which the server refuses).
  enum class StoreKey { kMasterKey, kUnencrypted, kNone };
  void set_store_key(StoreKey store_key) { store_key_ = store_key; }

  // The loopback port Start listens on: 0 (the default) picks a free one. A test that restarts a
  // server where its clients already connect passes the port the first Start got (port()).
  void set_port(int port) { listen_port_ = port; }

  // Whether Start gives the server only `--listen 127.0.0.1:PORT` and its extra arguments, none of
  // the options above (a test of a settings file passes `--config FILE`). Default: false.
  void set_arguments_only(bool arguments_only) { arguments_only_ = arguments_only; }

  // Starts the server and waits until it serves; false if it exited first (see log()).
  bool Start(const std::vector<std::string>& extra_args = {});
  // Sends `signal` and waits for the process to end; returns its wait status.
  int Signal(int signal);

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // The port the server listens on while it runs, else 0.
  int port() const { return port_; }
  // The server's process id while it runs, else -1.
  pid_t pid() const { return pid_; }
  std::string log();

 private:
  // Runs `args` with its standard error into `pipe_fds`, and reads it until the server serves.
  bool Spawn(std::vector<std::string> args, const int pipe_fds[2]);
  void DrainLog(int fd);

  std::string binary_;
  std::string data_dir_;
  bool test_environment_ = true;
  bool plaintext_test_access_ = true;
  StoreKey store_key_ = StoreKey::kMasterKey;
  bool arguments_only_ = false;
  int listen_port_ = 0;
  pid_t pid_ = -1;
  int port_ = 0;
  std::thread drainer_;
  std::mutex mu_;
  std::string log_;
};

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_SERVER_PROCESS_H_
