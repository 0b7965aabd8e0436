// Linking UPNs: a pupil keeps the permanent UPN first allocated for life; a temporary UPN gives
// way to a permanent one; every UPN a child has had still resolves to it.

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/child_id.h"
#include "tests/registry/registry_fixture.h"

namespace cir::registry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::FictionalNhsNumber;
using testing::FictionalTemporaryUpn;
using testing::FictionalUpn;
using Outcome = v1::LinkUpnResponse;

TEST_F(RegistryTest, LinkingAUpnIsRecordedAndRepeatingItChangesNothing) {
  std::string id = RegisterNew(9);
  absl::StatusOr<v1::LinkUpnResponse> linked = LinkUpn(id, FictionalUpn(9));
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_TRUE(linked->changed());
  EXPECT_EQ(linked->outcome(), Outcome::OUTCOME_LINKED);
  EXPECT_EQ(linked->record().upn(), FictionalUpn(9));
  EXPECT_EQ(linked->record().version(), 2);
  EXPECT_EQ(Events().back().kind(), storage::EVENT_KIND_UPN_LINKED);
  for (bool replace : {false, true}) {
    absl::StatusOr<v1::LinkUpnResponse> again = LinkUpn(id, FictionalUpn(9), replace);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE(again->changed());
    EXPECT_EQ(again->outcome(), Outcome::OUTCOME_UNCHANGED);
    EXPECT_EQ(again->record().version(), 2);
  }
  EXPECT_EQ(EventCount(), 2u);
}

TEST_F(RegistryTest, AnyChangeToAChildWithAUpnNeedsReplaceCurrent) {
  std::string id = RegisterNew(10);
  ASSERT_TRUE(LinkUpn(id, FictionalTemporaryUpn(10)).ok());
  std::string permanent = RegisterNew(11);
  ASSERT_TRUE(LinkUpn(permanent, FictionalUpn(11)).ok());
  for (const auto& [child, upn] : std::vector<std::pair<std::string, std::string>>{
           {id, FictionalUpn(12)}, {permanent, FictionalUpn(13)}}) {
    absl::StatusOr<v1::LinkUpnResponse> r = LinkUpn(child, upn);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(errors::ReasonOf(r.status()), v1::CHILD_HAS_ANOTHER_UPN);
    EXPECT_THAT(r.status().message(), HasSubstr("replace_current"));
    EXPECT_EQ(Resolve(upn).status().code(), absl::StatusCode::kNotFound);
  }
  EXPECT_EQ(EventCount(), 4u);
}

TEST_F(RegistryTest, APermanentUpnReplacesATemporaryOneWhichStillResolvesAsFormer) {
  std::string id = RegisterNew(14);
  const std::string temporary = FictionalTemporaryUpn(14);
  ASSERT_TRUE(LinkUpn(id, temporary).ok());
  absl::StatusOr<v1::LinkUpnResponse> replaced = LinkUpn(id, FictionalUpn(14), true);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_TRUE(replaced->changed());
  EXPECT_EQ(replaced->outcome(), Outcome::OUTCOME_REPLACED_TEMPORARY);
  EXPECT_EQ(replaced->record().upn(), FictionalUpn(14));
  EXPECT_THAT(replaced->record().former_upns(), ElementsAre(temporary));
  EXPECT_EQ(Events().back().kind(), storage::EVENT_KIND_UPN_REPLACED);
  absl::StatusOr<v1::ResolveResponse> by_former = Resolve(temporary);
  ASSERT_TRUE(by_former.ok()) << by_former.status();
  EXPECT_EQ(by_former->record().child_id(), id);
  EXPECT_TRUE(by_former->matched_former());
  EXPECT_FALSE(Resolve(FictionalUpn(14))->matched_former());
  // A retry changes nothing; the former temporary UPN never becomes current again.
  EXPECT_EQ(LinkUpn(id, FictionalUpn(14), true)->outcome(), Outcome::OUTCOME_UNCHANGED);
  absl::Status back = LinkUpn(id, temporary, true).status();
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::ReasonOf(back), v1::FORMER_IDENTIFIER_NOT_REUSABLE);
  EXPECT_EQ(EventCount(), 3u);
}

TEST_F(RegistryTest, ATemporaryUpnIsReplacedByAnotherTemporaryOne) {
  std::string id = RegisterNew(15);
  ASSERT_TRUE(LinkUpn(id, FictionalTemporaryUpn(15)).ok());
  absl::StatusOr<v1::LinkUpnResponse> r = LinkUpn(id, FictionalTemporaryUpn(16), true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outcome(), Outcome::OUTCOME_REPLACED_TEMPORARY);
  EXPECT_EQ(r->record().upn(), FictionalTemporaryUpn(16));
  EXPECT_THAT(r->record().former_upns(), ElementsAre(FictionalTemporaryUpn(15)));
}

TEST_F(RegistryTest, ASecondPermanentUpnIsKeptAsFormerAndTheFirstStaysCurrent) {
  std::string id = RegisterNew(17);
  ASSERT_TRUE(LinkUpn(id, FictionalUpn(17)).ok());
  absl::StatusOr<v1::LinkUpnResponse> kept = LinkUpn(id, FictionalUpn(18), true);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_TRUE(kept->changed());
  EXPECT_EQ(kept->outcome(), Outcome::OUTCOME_KEPT_AS_FORMER);
  EXPECT_EQ(kept->record().upn(), FictionalUpn(17));
  EXPECT_THAT(kept->record().former_upns(), ElementsAre(FictionalUpn(18)));
  EXPECT_EQ(kept->record().version(), 3);
  std::vector<storage::StoredEvent> events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kind(), storage::EVENT_KIND_UPN_KEPT_AS_FORMER);
  EXPECT_EQ(events[2].child_version(), 3);

  absl::StatusOr<v1::ResolveResponse> by_second = Resolve(FictionalUpn(18));
  ASSERT_TRUE(by_second.ok()) << by_second.status();
  EXPECT_EQ(by_second->record().child_id(), id);
  EXPECT_TRUE(by_second->matched_former());
  EXPECT_EQ(by_second->record().upn(), FictionalUpn(17));
  absl::StatusOr<v1::ResolveResponse> by_first = Resolve(FictionalUpn(17));
  ASSERT_TRUE(by_first.ok()) << by_first.status();
  EXPECT_FALSE(by_first->matched_former());

  // A retry answers as nothing changed, and writes nothing.
  absl::StatusOr<v1::LinkUpnResponse> retry = LinkUpn(id, FictionalUpn(18), true);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->changed());
  EXPECT_EQ(retry->outcome(), Outcome::OUTCOME_UNCHANGED);
  EXPECT_EQ(retry->record().upn(), FictionalUpn(17));
  EXPECT_EQ(EventCount(), 3u);
  // The former UPN is this child's: no other child may take it.
  std::string other = RegisterNew(19);
  EXPECT_EQ(errors::ReasonOf(LinkUpn(other, FictionalUpn(18)).status()),
            v1::UPN_HELD_BY_ANOTHER_CHILD);
}

TEST_F(RegistryTest, APermanentUpnIsNeverReplacedByATemporaryOne) {
  std::string id = RegisterNew(31);
  ASSERT_TRUE(LinkUpn(id, FictionalUpn(31)).ok());
  absl::StatusOr<v1::LinkUpnResponse> r = LinkUpn(id, FictionalTemporaryUpn(31), true);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::ReasonOf(r.status()), v1::PERMANENT_UPN_NOT_REPLACED_BY_TEMPORARY);
  EXPECT_THAT(r.status().message(), HasSubstr("temporary"));
  EXPECT_EQ(Resolve(id)->record().upn(), FictionalUpn(31));
  EXPECT_THAT(Resolve(id)->record().former_upns(), IsEmpty());
  EXPECT_EQ(Resolve(FictionalTemporaryUpn(31)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(EventCount(), 2u);
}

TEST_F(RegistryTest, AUpnOfAnotherChildIsRefusedWithoutDisclosingThatChild) {
  std::string first = RegisterNew(21);
  std::string second = RegisterNew(22);
  ASSERT_TRUE(LinkUpn(first, FictionalUpn(21)).ok());
  for (bool replace : {false, true}) {
    absl::StatusOr<v1::LinkUpnResponse> r = LinkUpn(second, FictionalUpn(21), replace);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(errors::ReasonOf(r.status()), v1::UPN_HELD_BY_ANOTHER_CHILD);
    for (const std::string& detail : {first, identifiers::FormatChildId(first),
                                      FictionalNhsNumber(21), FictionalUpn(21)}) {
      EXPECT_THAT(r.status().message(), Not(HasSubstr(detail)));
    }
  }
  EXPECT_EQ(Resolve(second)->record().upn(), "");
}

}  // namespace
}  // namespace cir::registry
