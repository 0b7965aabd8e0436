#include "tests/testing/client_package.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/time/clock.h"

extern char** environ;

namespace cir::testing {

CommandRun RunCommand(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

CommandRun InstallClientPackage(const std::string& build_dir, const std::string& prefix) {
  CommandRun all{0, ""};
  for (const char* component : {"client", "client-dev"}) {
    CommandRun install = RunCommand("cmake --install " + build_dir + " --prefix " + prefix +
                                    " --component " + component);
    all.output += install.output;
    if (install.exit_code != 0) return {install.exit_code, all.output};
  }
  return all;
}

std::string ClientLibraryDir(const std::string& prefix) {
  namespace fs = std::filesystem;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(prefix)) {
    if (entry.path().filename() == "libcir-client.so") return entry.path().parent_path();
  }
  return "";
}

CommandRun BuildAgainstPackage(const std::string& source_dir, const std::string& build_dir,
                               const std::string& prefix) {
  CommandRun configure = RunCommand("cmake -S " + source_dir + " -B " + build_dir +
                                    " -G Ninja -DCMAKE_PREFIX_PATH=" + prefix);
  if (configure.exit_code != 0) return configure;
  return RunCommand("cmake --build " + build_dir + " -j2");
}

ChildProgram::ChildProgram(const std::vector<std::string>& args,
                           const std::vector<std::string>& environment,
                           const std::string& output_file)
    : output_file_(output_file) {
  // Everything the child needs is built before fork: it may only make async-signal-safe calls.
  std::vector<std::string> owned_args = args;
  std::vector<char*> argv;
  for (std::string& arg : owned_args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> owned_env = environment;
  std::vector<char*> envp;
  for (char** variable = environ; *variable != nullptr; ++variable) envp.push_back(*variable);
  for (std::string& variable : owned_env) envp.push_back(variable.data());
  envp.push_back(nullptr);
  const int out = open(output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out);
}

ChildProgram::~ChildProgram() {
  if (Running()) Kill(SIGKILL);
}

bool ChildProgram::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  pid_ = -1;
  return false;
}

std::optional<int> ChildProgram::Wait(absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (Running() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(10));
  if (Running()) return std::nullopt;
  return exit_code_;
}

void ChildProgram::Kill(int signal) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  pid_ = -1;
}

std::string ChildProgram::Output() const {
  std::ifstream file(output_file_);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace cir::testing
