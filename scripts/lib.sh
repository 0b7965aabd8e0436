# Shared by the scripts in this folder: installs what the registry needs from Debian's packages
# (only what is missing) and builds it. Sourced, not run.

CIR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CIR_BUILD_DIR=${CIR_BUILD_DIR:-"$CIR_ROOT/build"}

# Every package the build, the tests and the tools need.
CIR_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev librocksdb-dev libssl-dev
  libgtest-dev libgmock-dev libcli11-dev libicu-dev openssl
)

cir_install_dependencies() {
  local missing=()
  for package in "${CIR_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "Installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Configures and builds into $CIR_BUILD_DIR; extra arguments go to cmake's configure step
# (e.g. -DCIR_SANITIZE=address). With CI=true in the environment, warnings are errors.
cir_build() {
  local werror=OFF
  if [ "${CI:-}" = "true" ]; then werror=ON; fi
  cmake -S "$CIR_ROOT" -B "$CIR_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCIR_WERROR="$werror" "$@" >/dev/null
  # Two cores: one build at a time, two jobs.
  cmake --build "$CIR_BUILD_DIR" -j "$(nproc)"
}

# Exports the sanitizer options for `kind` (address or thread), so that every process the tests
# start (test binaries, and the cir-server, cir and cir-bench they spawn) inherits them. Every
# report is fatal to the process that makes it and is also written to a file under `report_dir`
# (report.<process id>), so that a report from a server a test later kills still fails
# the run: see cir_check_sanitizer_reports.
cir_sanitizer_environment() {
  local kind=$1 report_dir=$2
  local supp="$CIR_ROOT/tests/sanitizers"
  mkdir -p "$report_dir"
  case "$kind" in
    address)
      export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:log_path=$report_dir/report"
      export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp:log_path=$report_dir/report"
      export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
      ;;
    thread)
      # suppress_equal_addresses=0: ThreadSanitizer otherwise keeps every address of a suppressed
      # race in one list it searches on each new race, and a server answering batches of 10,000
      # records (every field a suppressed race inside gRPC's hand-over) spent minutes in that
      # search (__tsan::FindRacyAddress). Suppressed races are still matched by their stacks.
      export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=7:suppress_equal_addresses=0:suppressions=$supp/tsan.supp:log_path=$report_dir/report"
      ;;
    *)
      echo "unknown sanitizer: $kind" >&2
      return 2
      ;;
  esac
}

# Fails (and prints them) if any process of the run wrote a sanitizer report under `report_dir`.
cir_check_sanitizer_reports() {
  local report_dir=$1
  local reports=("$report_dir"/*)
  if [ ! -e "${reports[0]}" ]; then
    echo "No sanitizer reports."
    return 0
  fi
  echo "Sanitizer reports (${#reports[@]}):" >&2
  for report in "${reports[@]}"; do
    echo "==== $report" >&2
    cat "$report" >&2
  done
  return 1
}
