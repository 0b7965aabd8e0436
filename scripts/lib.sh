# Shared by the scripts in this folder: installs what the registry needs from Debian's packages
# (only what is missing) and builds it. Sourced, not run.

CIR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CIR_BUILD_DIR=${CIR_BUILD_DIR:-"$CIR_ROOT/build"}

# Every package the build, the tests and the tools need.
CIR_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev librocksdb-dev libssl-dev
  libgtest-dev libgmock-dev libcli11-dev libicu-dev openssl prometheus-cpp-dev libjemalloc-dev
  dpkg-dev file man-db systemd
  python3-grpcio python3-protobuf python3-pip python3-setuptools python3-wheel
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

# ---- fuzzing (scripts/fuzz, and CI through scripts/test) --------------------------------------

# The fuzz targets, by name: tests/fuzz/<name>_fuzzer.cc, seeds in tests/fuzz/corpus/<name>/.
cir_fuzz_targets() {
  local source
  for source in "$CIR_ROOT"/tests/fuzz/*_fuzzer.cc; do
    source=$(basename "$source")
    echo "${source%_fuzzer.cc}"
  done
}

# What the fuzz build needs besides the registry's own packages: clang and its runtimes (libFuzzer,
# the sanitizers).
cir_install_fuzz_dependencies() {
  CIR_PACKAGES+=(clang-14 libclang-rt-14-dev)
  cir_install_dependencies
}

# Configures build-fuzz/ with clang 14 and CIR_FUZZ=ON (AddressSanitizer, UBSan, libFuzzer) and
# builds the fuzz targets alone. With CIR_BUILD_LOCK naming a file, the configure and build hold
# an exclusive flock on it (not the fuzzing after), so that builds sharing a machine run one at a
# time. With CI=true in the environment, warnings are errors.
cir_fuzz_build() {
  local werror=OFF
  if [ "${CI:-}" = "true" ]; then werror=ON; fi
  (
    if [ -n "${CIR_BUILD_LOCK:-}" ]; then
      exec 9>"$CIR_BUILD_LOCK"
      flock 9
    fi
    CC=clang-14 CXX=clang++-14 cmake -S "$CIR_ROOT" -B "$CIR_ROOT/build-fuzz" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCIR_WERROR="$werror" -DCIR_FUZZ=ON >/dev/null
    cmake --build "$CIR_ROOT/build-fuzz" -j "$(nproc)" --target cir_fuzzers
  )
}

# Runs fuzz target `target` for `seconds` (or until it has made `runs` executions, if given and
# sooner) on a working copy of its seed corpus
# (build-fuzz/fuzz-runs/<target>/corpus/, so the repository's corpus keeps only the seeds), with
# every sanitizer report fatal, and prints its executions. A crash, broken property, sanitizer
# report, leak, input slower than 25 seconds or memory above 2.5 GB fails the run: the log's end
# is printed, and the input is kept in build-fuzz/fuzz-runs/<target>/ with how to reproduce it.
# Each run's temporary folders (the stores some targets open) are removed after it.
cir_fuzz_run() {
  local target=$1 seconds=$2 runs=${3:-}
  local binary="$CIR_ROOT/build-fuzz/tests/fuzz/${target}_fuzzer"
  local seeds="$CIR_ROOT/tests/fuzz/corpus/$target"
  local run="$CIR_ROOT/build-fuzz/fuzz-runs/$target"
  if [ ! -x "$binary" ] || [ ! -d "$seeds" ]; then
    echo "no fuzz target '$target' (scripts/fuzz --list)" >&2
    return 2
  fi
  rm -rf "$run"
  mkdir -p "$run/tmp"
  cp -r "$seeds" "$run/corpus"
  local supp="$CIR_ROOT/tests/sanitizers"
  local status=0
  TMPDIR="$run/tmp" \
    ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp" \
    LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0" \
    "$binary" "$run/corpus" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$run/" ${runs:+-runs="$runs"} \
    >"$run/fuzz.log" 2>&1 || status=$?
  rm -rf "$run/tmp"
  local done_line rate
  done_line=$(grep -E '^Done [0-9]+ runs' "$run/fuzz.log" | tail -n 1 || true)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/fuzz.log" | tail -n 1)
  if [ "$status" -ne 0 ] || [ -z "$done_line" ]; then
    echo "FAILED: fuzz target $target (exit status $status). The end of $run/fuzz.log:" >&2
    tail -n 80 "$run/fuzz.log" >&2
    local artifact
    for artifact in "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-* "$run"/slow-unit-*; do
      [ -e "$artifact" ] || continue
      echo "Input kept: $artifact; reproduce with: $binary $artifact" >&2
    done
    [ "$status" -ne 0 ] || status=1
    return "$status"
  fi
  echo "$target: $done_line (${rate:-?} per second), no crash"
}

# Builds, then runs every fuzz target for `seconds` each; fails if any fails (after running all).
cir_fuzz_all() {
  local seconds=$1 failed=()
  cir_fuzz_build
  local target
  for target in $(cir_fuzz_targets); do
    cir_fuzz_run "$target" "$seconds" || failed+=("$target")
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "Fuzz targets that failed: ${failed[*]}" >&2
    return 1
  fi
}
