#include "tests/fuzz/fuzz_store.h"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <utility>

#include "google/protobuf/stubs/logging.h"
#include "openssl/crypto.h"
#include "storage/rocksdb_child_store.h"

namespace cir::fuzz {
namespace {

// What SharedStore owns (CloseStoreAtExit closes the registries before their store).
struct Owned {
  std::unique_ptr<storage::ChildStore> store;
  std::unique_ptr<registry::Registry> registry;
  std::unique_ptr<registry::LifeEvents> life_events;
  std::unique_ptr<registry::Registry> strict_registry;
  std::unique_ptr<registry::LifeEvents> strict_life_events;
};
Owned* owned = nullptr;
std::string* process_folder = nullptr;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_store: %s\n", what.c_str());
  std::abort();
}

// Registered once the store is open, so that it runs before the destructors of RocksDB's own
// statics made while opening it (its timer), and before RemoveFolderAtExit.
void CloseStoreAtExit() {
  owned->strict_life_events.reset();
  owned->strict_registry.reset();
  owned->life_events.reset();
  owned->registry.reset();
  owned->store.reset();
}

void RemoveFolderAtExit() {
  std::error_code ignored;
  std::filesystem::remove_all(*process_folder, ignored);
}

registry::RegistryOptions Options(bool allow_test_nhs_numbers) {
  registry::RegistryOptions options;
  options.today = [] { return FuzzToday(); };
  options.allow_test_nhs_numbers = allow_test_nhs_numbers;
  return options;
}

}  // namespace

const std::string& ProcessFolder() {
  if (process_folder == nullptr) {
    std::string pattern = (std::filesystem::temp_directory_path() / "cir-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) Fail("cannot make a temporary folder");
    process_folder = new std::string(std::move(pattern));
    std::atexit(RemoveFolderAtExit);
  }
  return *process_folder;
}

const FuzzStore& SharedStore() {
  static const FuzzStore shared = [] {
    // Protobuf logs an error for every string field that is not UTF-8, which fuzzed bytes
    // nearly always hold: the lines would be most of the run's time and output. (A fatal one
    // still aborts after its handler.)
    google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
    // OpenSSL's cleanup at exit must come after the store's threads (which use OpenSSL) have
    // ended, or their state in OpenSSL is never freed: handlers run in the reverse order of their
    // registration, and OpenSSL registers its own on its first initialisation with options (with
    // none it returns at once).
    OPENSSL_init_crypto(OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS, nullptr);
    storage::RocksDbStoreOptions options;
    options.path = ProcessFolder() + "/store";
    options.create_if_missing = true;
    options.sync_writes = false;
    options.block_cache_bytes = 8u << 20;
    options.memtable_bytes = 32u << 20;
    absl::StatusOr<std::unique_ptr<storage::ChildStore>> store =
        storage::RocksDbChildStore::Open(options);
    if (!store.ok()) Fail(store.status().ToString());
    owned = new Owned;
    owned->store = *std::move(store);
    owned->registry = std::make_unique<registry::Registry>(*owned->store, Options(true));
    owned->life_events = std::make_unique<registry::LifeEvents>(*owned->store, Options(true));
    owned->strict_registry = std::make_unique<registry::Registry>(*owned->store, Options(false));
    owned->strict_life_events =
        std::make_unique<registry::LifeEvents>(*owned->store, Options(false));
    std::atexit(CloseStoreAtExit);
    return FuzzStore{
        owned->store.get(),           owned->registry.get(),           owned->life_events.get(),
        owned->strict_registry.get(), owned->strict_life_events.get(), options.path};
  }();
  return shared;
}

absl::Status RunUnit(storage::ChildStore& store, storage::WriteWork work,
                     storage::SubmitOptions options) {
  std::promise<absl::Status> outcome;
  std::future<absl::Status> done = outcome.get_future();
  store.Submit(
      std::move(work), [&outcome](absl::Status s) { outcome.set_value(std::move(s)); },
      std::move(options));
  return done.get();
}

}  // namespace cir::fuzz
