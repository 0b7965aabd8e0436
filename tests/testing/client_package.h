#ifndef CIR_TESTS_TESTING_CLIENT_PACKAGE_H_
#define CIR_TESTS_TESTING_CLIENT_PACKAGE_H_

// The client library as an agency installs it, for tests that build programs against it out of
// tree (examples/): `cmake --install` of the build's components client and client-dev into a
// folder of the test's own, programs configured there by find_package(cir), and run as child
// processes that a test may kill.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace cir::testing {

struct CommandRun {
  int exit_code;       // -1 if the command did not exit by itself
  std::string output;  // standard output and standard error together
};

// Runs `command` with /bin/sh and waits for it.
CommandRun RunCommand(const std::string& command);

// Installs the client package of the build in `build_dir` into `prefix`.
CommandRun InstallClientPackage(const std::string& build_dir, const std::string& prefix);

// The folder holding libcir-client.so under `prefix`; "" if none does.
std::string ClientLibraryDir(const std::string& prefix);

// Configures the CMake project in `source_dir` (an example using find_package(cir)) into
// `build_dir` against the install in `prefix`, and builds it (two jobs at a time).
CommandRun BuildAgainstPackage(const std::string& source_dir, const std::string& build_dir,
                               const std::string& prefix);

// A program running as a child process, its standard output and error written to a file.
// Destroying it kills the program if it still runs.
class ChildProgram {
 public:
  // Starts `args` (args[0] the program's path) with `environment` ("NAME=value") added to this
  // process's.
  ChildProgram(const std::vector<std::string>& args, const std::vector<std::string>& environment,
               const std::string& output_file);
  ~ChildProgram();
  ChildProgram(const ChildProgram&) = delete;
  ChildProgram& operator=(const ChildProgram&) = delete;

  // Whether the program still runs (false once it has exited and been waited for).
  bool Running();
  // Its exit status (-1 if a signal ended it) once it ends within `timeout`; std::nullopt if it
  // still runs then.
  std::optional<int> Wait(absl::Duration timeout);
  // Sends `signal` and waits for the program to end.
  void Kill(int signal);
  // What it has written so far.
  std::string Output() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string output_file_;
};

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_CLIENT_PACKAGE_H_
