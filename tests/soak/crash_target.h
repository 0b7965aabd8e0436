#ifndef CIR_TESTS_SOAK_CRASH_TARGET_H_
#define CIR_TESTS_SOAK_CRASH_TARGET_H_

#include <memory>
#include <string>
#include <vector>

namespace cir::soak {

// A registry that the soak starts, crashes and starts again on one data folder. Its store is
// encrypted under a master key kept beside the folder, and it signs a checkpoint of the audit
// log every second with a key kept there too.
class CrashTarget {
 public:
  virtual ~CrashTarget() = default;
  // Serves on the data folder (after the last crash, whatever that left); false if it could not
  // start, with why in log().
  virtual bool Start() = 0;
  // The address it serves on (plaintext, loopback, as the tests' agency), while it runs.
  virtual std::string address() const = 0;
  // Ends it abruptly, with calls in flight.
  virtual void Crash() = 0;
  // Ends it in order.
  virtual void Stop() = 0;
  // The PEM file of the audit log's signing key (`cir audit verify` needs its public half).
  virtual std::string signing_key_file() const = 0;
  virtual std::string log() = 0;
  // The process serving it (for its memory), while it runs.
  virtual int pid() const = 0;
};

// cir-server as a process of its own (`server_path`), crashed by SIGKILL: what the process had
// not written is lost, what it wrote survives in the kernel's cache. Its backups go beside the
// data folder, into `data_dir`.backups.
// `extra_args` go to cir-server after the harness's own.
std::unique_ptr<CrashTarget> KilledServerProcess(const std::string& server_path,
                                                 const std::string& data_dir,
                                                 std::vector<std::string> extra_args = {});

// The registry's server in this process over a file system that loses, at a power cut, every
// byte not synced (tests/testing/fault_injection_fs.h): from the cut on, every write and sync
// fails, and before the next start the files are cut back to what was synced.
std::unique_ptr<CrashTarget> PowerCutServer(const std::string& data_dir);

}  // namespace cir::soak

#endif  // CIR_TESTS_SOAK_CRASH_TARGET_H_
