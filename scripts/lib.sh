# Shared by the scripts in this folder: installs what the registry needs from Debian's packages
# (only what is missing) and builds it. Sourced, not run.

CIR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CIR_BUILD_DIR=${CIR_BUILD_DIR:-"$CIR_ROOT/build"}

# Every package the build, the tests and the tools need.
CIR_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev librocksdb-dev libssl-dev
  libgtest-dev libgmock-dev libcli11-dev libicu-dev
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

cir_build() {
  cmake -S "$CIR_ROOT" -B "$CIR_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  # Two cores: one build at a time, two jobs.
  cmake --build "$CIR_BUILD_DIR" -j "$(nproc)"
}
