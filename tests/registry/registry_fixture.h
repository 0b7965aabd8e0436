#ifndef CIR_TESTS_REGISTRY_REGISTRY_FIXTURE_H_
#define CIR_TESTS_REGISTRY_REGISTRY_FIXTURE_H_

// A registry over a fresh RocksDB store in its own temporary folder, with its write calls waited
// for, for the registry's tests.

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "registry/registry.h"
#include "storage/key_codec.h"
#include "storage/rocksdb_child_store.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/temp_dir.h"

namespace cir::registry {

class RegistryTest : public ::testing::Test {
 protected:
  // A test environment: fictional NHS numbers (999...) are accepted. One test proves the default.
  static RegistryOptions TestOptions() {
    RegistryOptions options;
    options.today = [] { return absl::CivilDay(2026, 11, 25); };
    options.allow_test_nhs_numbers = true;
    return options;
  }

  void SetUp() override {
    storage::RocksDbStoreOptions store_options;
    store_options.path = dir_.Sub("db");
    store_options.create_if_missing = true;
    absl::StatusOr<std::unique_ptr<storage::ChildStore>> store =
        storage::RocksDbChildStore::Open(store_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    registry_ = std::make_unique<Registry>(*store_, TestOptions());
  }

  // The write calls, waited for.
  absl::StatusOr<v1::RegisterBirthResponse> Register(const v1::RegisterBirthRequest& request) {
    std::promise<absl::StatusOr<v1::RegisterBirthResponse>> reply;
    registry_->RegisterBirth(request, [&](auto r) { reply.set_value(std::move(r)); });
    return reply.get_future().get();
  }
  absl::StatusOr<v1::LinkUpnResponse> LinkUpn(const std::string& child_id, const std::string& upn,
                                              bool replace = false) {
    v1::LinkUpnRequest request;
    request.set_child_id(child_id);
    request.set_upn(upn);
    request.set_replace_current(replace);
    std::promise<absl::StatusOr<v1::LinkUpnResponse>> reply;
    registry_->LinkUpn(request, [&](auto r) { reply.set_value(std::move(r)); });
    return reply.get_future().get();
  }
  absl::StatusOr<v1::LinkNhsNumberResponse> LinkNhs(const std::string& child_id,
                                                    const std::string& nhs) {
    v1::LinkNhsNumberRequest request;
    request.set_child_id(child_id);
    request.set_nhs_number(nhs);
    std::promise<absl::StatusOr<v1::LinkNhsNumberResponse>> reply;
    registry_->LinkNhsNumber(request, [&](auto r) { reply.set_value(std::move(r)); });
    return reply.get_future().get();
  }
  absl::StatusOr<v1::ResolveResponse> Resolve(const std::string& identifier) {
    v1::ResolveRequest request;
    request.set_identifier(identifier);
    return registry_->Resolve(request);
  }

  // Registers the n-th fictional child (its own notification id and NHS number); returns its
  // identifier.
  std::string RegisterNew(int n) {
    v1::RegisterBirthRequest birth =
        testing::FictionalBirth(absl::StrCat("notification-", n), testing::FictionalNhsNumber(n));
    absl::StatusOr<v1::RegisterBirthResponse> r = Register(birth);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->record().child_id() : "";
  }
  // A child registered without an NHS number under `notification_id`.
  std::string RegisterWithoutNhsNumber(const std::string& notification_id) {
    absl::StatusOr<v1::RegisterBirthResponse> r =
        Register(testing::FictionalBirth(notification_id, ""));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->record().child_id() : "";
  }

  std::vector<storage::StoredEvent> Events() { return *store_->ReadEvents(0, 1000000); }
  size_t EventCount() { return Events().size(); }
  storage::StoredChild Stored(const std::string& child_id) {
    absl::StatusOr<std::optional<storage::StoredChild>> child = store_->GetChild(child_id);
    EXPECT_TRUE(child.ok() && child->has_value());
    return child.ok() && child->has_value() ? **child : storage::StoredChild();
  }
  // Whether the fictional notifying system's notification `id` is recorded.
  bool NotificationRecorded(const std::string& id,
                            const std::string& system = testing::kFictionalNotifyingSystem) {
    return store_
        ->Lookup(storage::IndexKind::kNotification, storage::NotificationIndexValue(system, id))
        ->has_value();
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::ChildStore> store_;
  std::unique_ptr<Registry> registry_;
};

}  // namespace cir::registry

#endif  // CIR_TESTS_REGISTRY_REGISTRY_FIXTURE_H_
