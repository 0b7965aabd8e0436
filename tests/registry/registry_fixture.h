#ifndef CIR_TESTS_REGISTRY_REGISTRY_FIXTURE_H_
#define CIR_TESTS_REGISTRY_REGISTRY_FIXTURE_H_

// A registry and its life events over a fresh RocksDB store in its own temporary folder, with
// their write calls waited for, for the registry's tests.

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "registry/life_events.h"
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
    life_events_ = std::make_unique<LifeEvents>(*store_, TestOptions());
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
  // The n-th fictional child as RegisterNew, living at AddressLineIn(local_authority), Fictional
  // Town, PostcodeIn(local_authority).
  std::string RegisterAt(int n, const std::string& local_authority = "938") {
    v1::RegisterBirthRequest birth =
        testing::FictionalBirth(absl::StrCat("notification-", n), testing::FictionalNhsNumber(n));
    birth.add_address_lines(AddressLineIn(local_authority));
    birth.add_address_lines("Fictional Town");
    birth.set_postcode(PostcodeIn(local_authority));
    birth.set_local_authority(local_authority);
    absl::StatusOr<v1::RegisterBirthResponse> r = Register(birth);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->record().child_id() : "";
  }
  // A first address line and a postcode of the fictional addresses in 201 (City of London), 873
  // (Cambridgeshire) and 938 (West Sussex).
  static std::string AddressLineIn(const std::string& local_authority) {
    return absl::StrCat("1 Test Row ", local_authority);
  }
  static std::string PostcodeIn(const std::string& local_authority) {
    if (local_authority == "201") return "EC2V 7HH";
    if (local_authority == "873") return "CB2 1TN";
    return "RH12 1AA";
  }

  // A child registered without an NHS number under `notification_id`.
  std::string RegisterWithoutNhsNumber(const std::string& notification_id) {
    absl::StatusOr<v1::RegisterBirthResponse> r =
        Register(testing::FictionalBirth(notification_id, ""));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->record().child_id() : "";
  }

  // The field a refusal's metadata names, or "" if none.
  static std::string RefusedField(const absl::Status& status) {
    std::optional<google::rpc::ErrorInfo> info = errors::ErrorInfoOf(status);
    if (!info.has_value()) return "";
    auto it = info->metadata().find("field");
    return it == info->metadata().end() ? "" : it->second;
  }
  // Expects `status` to refuse with `code` and `reason`, naming `field` ("" for none).
  static void ExpectRefused(const absl::Status& status, absl::StatusCode code,
                            v1::ErrorReason reason, const std::string& field) {
    EXPECT_EQ(status.code(), code) << status;
    EXPECT_EQ(errors::ReasonOf(status), reason) << status;
    EXPECT_EQ(RefusedField(status), field) << status;
  }

  // Who makes the life events of the tests.
  static constexpr char kRecordedBy[] = "Test Clerk, Fictional Data Team";

  // Life event requests, complete and valid for a child of FictionalBirth.
  static v1::RecordDeathRequest DeathRequest(
      const std::string& request_id, const std::string& child_id, v1::DeathNotice notice,
      absl::CivilDay date_of_death = absl::CivilDay(2026, 11, 1)) {
    v1::RecordDeathRequest request;
    request.set_request_id(request_id);
    request.set_child_id(child_id);
    request.set_notice(notice);
    if (notice != v1::DEATH_NOTICE_RETRACTION) {
      request.mutable_date_of_death()->set_year(static_cast<int32_t>(date_of_death.year()));
      request.mutable_date_of_death()->set_month(date_of_death.month());
      request.mutable_date_of_death()->set_day(date_of_death.day());
    }
    request.set_recorded_by(kRecordedBy);
    return request;
  }
  static v1::ChangeAddressRequest AddressRequest(const std::string& request_id,
                                                 const std::string& child_id,
                                                 const std::vector<std::string>& lines,
                                                 const std::string& postcode,
                                                 const std::string& local_authority) {
    v1::ChangeAddressRequest request;
    request.set_request_id(request_id);
    request.set_child_id(child_id);
    for (const std::string& line : lines) request.add_address_lines(line);
    request.set_postcode(postcode);
    request.set_local_authority(local_authority);
    request.set_recorded_by(kRecordedBy);
    return request;
  }
  // Corrects nothing yet: the caller sets the corrections.
  static v1::CorrectDetailsRequest CorrectionRequest(const std::string& request_id,
                                                     const std::string& child_id,
                                                     int64_t expected_version) {
    v1::CorrectDetailsRequest request;
    request.set_request_id(request_id);
    request.set_child_id(child_id);
    request.set_expected_version(expected_version);
    request.set_recorded_by(kRecordedBy);
    return request;
  }
  static v1::SupersedeNhsNumberRequest SupersessionRequest(const std::string& request_id,
                                                           const std::string& child_id,
                                                           const std::string& new_nhs_number) {
    v1::SupersedeNhsNumberRequest request;
    request.set_request_id(request_id);
    request.set_child_id(child_id);
    request.set_new_nhs_number(new_nhs_number);
    request.set_recorded_by(kRecordedBy);
    return request;
  }
  static v1::MergeRecordsRequest MergeRequest(const std::string& request_id,
                                              const std::string& surviving_child_id,
                                              const std::string& retired_child_id) {
    v1::MergeRecordsRequest request;
    request.set_request_id(request_id);
    request.set_surviving_child_id(surviving_child_id);
    request.set_retired_child_id(retired_child_id);
    request.set_recorded_by(kRecordedBy);
    return request;
  }
  static v1::UndoMergeRequest UndoRequest(const std::string& request_id,
                                          const std::string& retired_child_id) {
    v1::UndoMergeRequest request;
    request.set_request_id(request_id);
    request.set_retired_child_id(retired_child_id);
    request.set_recorded_by(kRecordedBy);
    return request;
  }
  static v1::RestrictSharingRequest RestrictionRequest(
      const std::string& request_id, const std::string& child_id, v1::RestrictionChange objection,
      v1::RestrictionChange sensitive = v1::RESTRICTION_CHANGE_UNSPECIFIED) {
    v1::RestrictSharingRequest request;
    request.set_request_id(request_id);
    request.set_child_id(child_id);
    request.set_objection(objection);
    request.set_sensitive(sensitive);
    request.set_recorded_by(kRecordedBy);
    return request;
  }

  // A request id no other call of the test has used.
  std::string NewRequestId() { return absl::StrCat("request-", ++request_ids_); }

  // The life event calls, waited for.
  absl::StatusOr<v1::RecordDeathResponse> RecordDeath(const v1::RecordDeathRequest& request) {
    return Waited<v1::RecordDeathResponse>(
        [&](auto reply) { life_events_->RecordDeath(request, std::move(reply)); });
  }
  absl::StatusOr<v1::ChangeAddressResponse> ChangeAddress(const v1::ChangeAddressRequest& request) {
    return Waited<v1::ChangeAddressResponse>(
        [&](auto reply) { life_events_->ChangeAddress(request, std::move(reply)); });
  }
  absl::StatusOr<v1::CorrectDetailsResponse> CorrectDetails(
      const v1::CorrectDetailsRequest& request) {
    return Waited<v1::CorrectDetailsResponse>(
        [&](auto reply) { life_events_->CorrectDetails(request, std::move(reply)); });
  }
  absl::StatusOr<v1::SupersedeNhsNumberResponse> SupersedeNhsNumber(
      const v1::SupersedeNhsNumberRequest& request) {
    return Waited<v1::SupersedeNhsNumberResponse>(
        [&](auto reply) { life_events_->SupersedeNhsNumber(request, std::move(reply)); });
  }
  absl::StatusOr<v1::MergeRecordsResponse> MergeRecords(const v1::MergeRecordsRequest& request) {
    return Waited<v1::MergeRecordsResponse>(
        [&](auto reply) { life_events_->MergeRecords(request, std::move(reply)); });
  }
  absl::StatusOr<v1::UndoMergeResponse> UndoMerge(const v1::UndoMergeRequest& request) {
    return Waited<v1::UndoMergeResponse>(
        [&](auto reply) { life_events_->UndoMerge(request, std::move(reply)); });
  }
  absl::StatusOr<v1::RestrictSharingResponse> RestrictSharing(
      const v1::RestrictSharingRequest& request) {
    return Waited<v1::RestrictSharingResponse>(
        [&](auto reply) { life_events_->RestrictSharing(request, std::move(reply)); });
  }
  // The commonest ones, each with a request id of its own.
  absl::StatusOr<v1::MergeRecordsResponse> Merge(const std::string& surviving_child_id,
                                                 const std::string& retired_child_id) {
    return MergeRecords(MergeRequest(NewRequestId(), surviving_child_id, retired_child_id));
  }
  absl::StatusOr<v1::UndoMergeResponse> Undo(const std::string& retired_child_id) {
    return UndoMerge(UndoRequest(NewRequestId(), retired_child_id));
  }
  // A move to AddressLineIn(local_authority), Fictional Town, PostcodeIn(local_authority).
  absl::StatusOr<v1::ChangeAddressResponse> Move(const std::string& child_id,
                                                 const std::string& local_authority) {
    return ChangeAddress(AddressRequest(NewRequestId(), child_id,
                                        {AddressLineIn(local_authority), "Fictional Town"},
                                        PostcodeIn(local_authority), local_authority));
  }

  // Every event of `local_authority`'s feed, in area sequence order.
  std::vector<storage::StoredFeedEvent> AreaFeed(const std::string& local_authority) {
    absl::StatusOr<std::vector<storage::AreaFeedPage>> pages =
        store_->ReadAreaFeeds({{local_authority, 0}}, 1000000);
    EXPECT_TRUE(pages.ok()) << pages.status();
    return pages.ok() && !pages->empty() ? (*pages)[0].events
                                         : std::vector<storage::StoredFeedEvent>();
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
  std::unique_ptr<LifeEvents> life_events_;

 private:
  // Calls `call` with a reply and waits for it. The reply owns what it sets, so it may finish on
  // another thread after the caller has gone on.
  template <typename Response, typename Call>
  static absl::StatusOr<Response> Waited(Call call) {
    auto reply = std::make_shared<std::promise<absl::StatusOr<Response>>>();
    std::future<absl::StatusOr<Response>> answer = reply->get_future();
    call([reply](absl::StatusOr<Response> r) { reply->set_value(std::move(r)); });
    return answer.get();
  }

  std::atomic<int> request_ids_{0};
};

}  // namespace cir::registry

#endif  // CIR_TESTS_REGISTRY_REGISTRY_FIXTURE_H_
