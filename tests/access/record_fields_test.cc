// Least data: what each role keeps of a child's record and of a feed event's child, a sensitive
// record's address for local authority data teams only, and fields no role lists cleared for all.
// The records are filled by reflection, every field, so that a field added to the proto later is
// covered without changing these tests.

#include "access/record_fields.h"

#include <algorithm>
#include <initializer_list>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "access/method_rules.h"
#include "cir/v1/registry.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace cir::access {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::util::MessageDifferencer;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

using Names = std::set<std::string>;

constexpr Role kEveryRole[] = {ROLE_MATERNITY,        ROLE_HEALTH_VISITING, ROLE_SCHOOL,
                               ROLE_CHILDRENS_CENTRE, ROLE_LA_DATA_TEAM,    ROLE_REGISTRAR,
                               ROLE_AUDITOR,          ROLE_OPERATOR};

// --- What each role sees, as DOMAIN.md's "Who may see what" gives it ---------------------------

const Names kIdentifiers = {"child_id", "child_id_display", "nhs_number", "former_nhs_numbers",
                            "upn",      "former_upns"};

// Every field of ChildRecord today, by name: "the record" and "the full record".
const Names kWholeRecord = {"child_id",
                            "child_id_display",
                            "nhs_number",
                            "former_nhs_numbers",
                            "upn",
                            "former_upns",
                            "date_of_birth",
                            "sex",
                            "given_name",
                            "family_name",
                            "postcode",
                            "local_authority",
                            "mother_nhs_number",
                            "status",
                            "registered_at_unix_seconds",
                            "version",
                            "birth_order",
                            "mother_given_name",
                            "mother_family_name",
                            "address_lines",
                            "death_kind",
                            "date_of_death",
                            "merged_into_child_id",
                            "merged_from_child_ids",
                            "sharing_objection",
                            "sensitive"};

// What a maternity system registered (and the death it may record).
const Names kWhatMaternityRegistered = {"child_id",
                                        "child_id_display",
                                        "nhs_number",
                                        "date_of_birth",
                                        "sex",
                                        "given_name",
                                        "family_name",
                                        "postcode",
                                        "local_authority",
                                        "mother_nhs_number",
                                        "status",
                                        "registered_at_unix_seconds",
                                        "version",
                                        "birth_order",
                                        "mother_given_name",
                                        "mother_family_name",
                                        "address_lines",
                                        "death_kind",
                                        "date_of_death"};

// Identifiers, names, date of birth, and whether the record is current.
const Names kWhatSchoolsSee = {
    "child_id",      "child_id_display", "nhs_number",          "former_nhs_numbers",
    "upn",           "former_upns",      "given_name",          "family_name",
    "date_of_birth", "status",           "merged_into_child_id"};

// What a children's centre receives: never an NHS number or a UPN.
const Names kWhatCentresSee = {"child_id",
                               "child_id_display",
                               "given_name",
                               "family_name",
                               "date_of_birth",
                               "sex",
                               "address_lines",
                               "postcode",
                               "local_authority",
                               "mother_given_name",
                               "mother_family_name",
                               "birth_order",
                               "status",
                               "death_kind",
                               "date_of_death",
                               "merged_into_child_id"};

// Identifiers, and the death a registrar records.
const Names kWhatRegistrarsSee = {
    "child_id", "child_id_display", "nhs_number",    "former_nhs_numbers",
    "status",   "death_kind",       "date_of_death", "merged_into_child_id"};

const Names& ExpectedRecordFieldsOf(Role role) {
  static const Names kNothing;
  switch (role) {
    case ROLE_MATERNITY:
      return kWhatMaternityRegistered;
    case ROLE_HEALTH_VISITING:
    case ROLE_LA_DATA_TEAM:
      return kWholeRecord;
    case ROLE_SCHOOL:
      return kWhatSchoolsSee;
    case ROLE_CHILDRENS_CENTRE:
      return kWhatCentresSee;
    case ROLE_REGISTRAR:
      return kWhatRegistrarsSee;
    default:
      return kNothing;
  }
}

// Every field of CentreChild today, all of which a children's centre receives.
const Names kWholeCentreChild = {
    "given_name", "family_name",       "date_of_birth",      "sex",         "address_lines",
    "postcode",   "mother_given_name", "mother_family_name", "birth_order", "status",
    "death_kind", "date_of_death",     "restricted"};

const Names kAddress = {"address_lines", "postcode"};

// --- Records with every field set --------------------------------------------------------------

// Sets every field of `message` to a value other than its default (repeated fields to two values,
// nested messages filled the same way), so that a field added later is set too.
void FillEveryField(Message& message, int depth = 0) {
  const Descriptor* descriptor = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    // One member of a oneof is all it holds.
    const google::protobuf::OneofDescriptor* oneof = field->real_containing_oneof();
    if (oneof != nullptr && oneof->field(0) != field) continue;
    const int values = field->is_repeated() ? 2 : 1;
    for (int n = 0; n < values; ++n) {
      const int number = field->number() * 10 + n + 1;
      const bool repeated = field->is_repeated();
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32:
          repeated ? reflection->AddInt32(&message, field, number)
                   : reflection->SetInt32(&message, field, number);
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          repeated ? reflection->AddInt64(&message, field, number)
                   : reflection->SetInt64(&message, field, number);
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          repeated ? reflection->AddUInt32(&message, field, number)
                   : reflection->SetUInt32(&message, field, number);
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          repeated ? reflection->AddUInt64(&message, field, number)
                   : reflection->SetUInt64(&message, field, number);
          break;
        case FieldDescriptor::CPPTYPE_DOUBLE:
          repeated ? reflection->AddDouble(&message, field, number + 0.5)
                   : reflection->SetDouble(&message, field, number + 0.5);
          break;
        case FieldDescriptor::CPPTYPE_FLOAT:
          repeated ? reflection->AddFloat(&message, field, number + 0.5f)
                   : reflection->SetFloat(&message, field, number + 0.5f);
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          repeated ? reflection->AddBool(&message, field, true)
                   : reflection->SetBool(&message, field, true);
          break;
        case FieldDescriptor::CPPTYPE_ENUM: {
          // The last value: never the default, which comes first in proto3.
          const google::protobuf::EnumDescriptor* type = field->enum_type();
          const google::protobuf::EnumValueDescriptor* value =
              type->value(std::max(0, type->value_count() - 1 - n));
          repeated ? reflection->AddEnum(&message, field, value)
                   : reflection->SetEnum(&message, field, value);
          break;
        }
        case FieldDescriptor::CPPTYPE_STRING: {
          const std::string value = absl::StrCat("fictional-", field->name(), "-", n + 1);
          repeated ? reflection->AddString(&message, field, value)
                   : reflection->SetString(&message, field, value);
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (depth < 3) {
            FillEveryField(repeated ? *reflection->AddMessage(&message, field)
                                    : *reflection->MutableMessage(&message, field),
                           depth + 1);
          }
          break;
      }
    }
  }
}

Names FieldNamesOf(const Descriptor* descriptor) {
  Names names;
  for (int i = 0; i < descriptor->field_count(); ++i) names.insert(descriptor->field(i)->name());
  return names;
}

Names SetNames(const Message& message) {
  const std::vector<std::string> names = SetFieldNames(message);
  return Names(names.begin(), names.end());
}

Names Minus(const Names& from, const Names& taken) {
  Names rest;
  std::set_difference(from.begin(), from.end(), taken.begin(), taken.end(),
                      std::inserter(rest, rest.end()));
  return rest;
}

Names Intersection(const Names& a, const Names& b) {
  Names both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(both, both.end()));
  return both;
}

Names Union(const Names& a, const Names& b) {
  Names all = a;
  all.insert(b.begin(), b.end());
  return all;
}

// `message` with only the fields named kept, values untouched.
template <typename M>
M Keeping(const M& message, const Names& names) {
  M kept = message;
  const Descriptor* descriptor = kept.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    if (!names.contains(descriptor->field(i)->name())) {
      kept.GetReflection()->ClearField(&kept, descriptor->field(i));
    }
  }
  return kept;
}

// A record with every field set, `sensitive` as given.
v1::ChildRecord FullRecord(bool sensitive) {
  v1::ChildRecord record;
  FillEveryField(record);
  record.set_sensitive(sensitive);
  return record;
}

v1::CentreChild FullCentreChild(bool restricted) {
  v1::CentreChild child;
  FillEveryField(child);
  child.set_restricted(restricted);
  return child;
}

MethodGrant GrantOf(std::initializer_list<Role> roles) {
  MethodGrant grant;
  for (Role role : roles) grant.grants.push_back({role, false, false});
  return grant;
}

v1::ChildRecord TrimmedFor(const MethodGrant& grant, v1::ChildRecord record) {
  TrimChildRecord(grant, record);
  return record;
}

v1::CentreChild TrimmedFor(const MethodGrant& grant, v1::CentreChild child) {
  TrimCentreChild(grant, child);
  return child;
}

// Checks that `trimmed` is `original` with exactly `kept` (of those set) left, values unchanged.
template <typename M>
void ExpectKeptExactly(const M& original, const M& trimmed, const Names& kept) {
  EXPECT_THAT(SetNames(trimmed), UnorderedElementsAreArray(Intersection(kept, SetNames(original))));
  EXPECT_TRUE(MessageDifferencer::Equals(Keeping(original, kept), trimmed))
      << "the fields kept are not exactly the original's";
}

// --- The fixture itself ------------------------------------------------------------------------

TEST(RecordFieldsTest, TheFullRecordHasEveryFieldSet) {
  EXPECT_EQ(SetNames(FullRecord(/*sensitive=*/true)), FieldNamesOf(v1::ChildRecord::descriptor()));
  EXPECT_EQ(SetNames(FullCentreChild(/*restricted=*/true)),
            FieldNamesOf(v1::CentreChild::descriptor()));
}

TEST(RecordFieldsTest, EveryAllowListedPathIsAFieldOfTheMessage) {
  const Names record_fields = FieldNamesOf(v1::ChildRecord::descriptor());
  const Names centre_fields = FieldNamesOf(v1::CentreChild::descriptor());
  for (Role role : kEveryRole) {
    for (const std::string& path : ChildRecordFieldsOf(role).paths()) {
      EXPECT_TRUE(record_fields.contains(path)) << Role_Name(role) << ": " << path;
    }
    for (const std::string& path : CentreChildFieldsOf(role).paths()) {
      EXPECT_TRUE(centre_fields.contains(path)) << Role_Name(role) << ": " << path;
    }
  }
}

// --- Each role's fields ------------------------------------------------------------------------

TEST(RecordFieldsTest, EachRoleKeepsExactlyItsFieldsOfARecordThatIsNotSensitive) {
  const v1::ChildRecord record = FullRecord(/*sensitive=*/false);
  for (Role role : kEveryRole) {
    SCOPED_TRACE(Role_Name(role));
    ExpectKeptExactly(record, TrimmedFor(GrantOf({role}), record), ExpectedRecordFieldsOf(role));
  }
}

TEST(RecordFieldsTest, EachRoleKeepsExactlyItsFieldsOfASensitiveRecordWithoutItsAddress) {
  const v1::ChildRecord record = FullRecord(/*sensitive=*/true);
  for (Role role : kEveryRole) {
    SCOPED_TRACE(Role_Name(role));
    const Names expected = role == ROLE_LA_DATA_TEAM
                               ? ExpectedRecordFieldsOf(role)
                               : Minus(ExpectedRecordFieldsOf(role), kAddress);
    ExpectKeptExactly(record, TrimmedFor(GrantOf({role}), record), expected);
  }
}

TEST(RecordFieldsTest, ASchoolKeepsIdentifiersNamesDateOfBirthStatusAndMergeAndNothingElse) {
  const v1::ChildRecord record = FullRecord(/*sensitive=*/false);
  EXPECT_THAT(
      SetNames(TrimmedFor(GrantOf({ROLE_SCHOOL}), record)),
      UnorderedElementsAreArray(Union(kIdentifiers, {"given_name", "family_name", "date_of_birth",
                                                     "status", "merged_into_child_id"})));
}

TEST(RecordFieldsTest, AChildrensCentreNeverKeepsAnNhsNumberOrAUpn) {
  for (bool sensitive : {false, true}) {
    const Names kept =
        SetNames(TrimmedFor(GrantOf({ROLE_CHILDRENS_CENTRE}), FullRecord(sensitive)));
    for (const char* never :
         {"nhs_number", "former_nhs_numbers", "upn", "former_upns", "mother_nhs_number"}) {
      EXPECT_FALSE(kept.contains(never)) << never;
    }
    EXPECT_TRUE(kept.contains("child_id")) << "a centre joins records on the child identifier";
  }
}

TEST(RecordFieldsTest, ARegistrarKeepsIdentifiersAndTheDeathOnly) {
  EXPECT_THAT(SetNames(TrimmedFor(GrantOf({ROLE_REGISTRAR}), FullRecord(false))),
              UnorderedElementsAreArray(kWhatRegistrarsSee));
}

TEST(RecordFieldsTest, HealthVisitingAndDataTeamsKeepTheWholeRecord) {
  const v1::ChildRecord record = FullRecord(/*sensitive=*/false);
  for (Role role : {ROLE_HEALTH_VISITING, ROLE_LA_DATA_TEAM}) {
    EXPECT_TRUE(MessageDifferencer::Equals(TrimmedFor(GrantOf({role}), record), record))
        << Role_Name(role);
  }
}

TEST(RecordFieldsTest, AuditorsAndOperatorsKeepNothingOfARecord) {
  for (bool sensitive : {false, true}) {
    for (Role role : {ROLE_AUDITOR, ROLE_OPERATOR}) {
      EXPECT_THAT(SetNames(TrimmedFor(GrantOf({role}), FullRecord(sensitive))), IsEmpty())
          << Role_Name(role);
    }
    EXPECT_THAT(SetNames(TrimmedFor(GrantOf({ROLE_AUDITOR, ROLE_OPERATOR}), FullRecord(sensitive))),
                IsEmpty());
  }
}

TEST(RecordFieldsTest, AGrantOfNoRoleKeepsNothing) {
  EXPECT_THAT(SetNames(TrimmedFor(MethodGrant{}, FullRecord(/*sensitive=*/false))), IsEmpty());
  EXPECT_THAT(SetNames(TrimmedFor(MethodGrant{}, FullCentreChild(/*restricted=*/false))),
              IsEmpty());
}

TEST(RecordFieldsTest, AFieldOnNoRolesListIsClearedForEveryRole) {
  // Every field the reflection set that no role's list names: a field added to the proto later,
  // until someone decides who sees it.
  Names listed;
  for (Role role : kEveryRole) {
    for (const std::string& path : ChildRecordFieldsOf(role).paths()) listed.insert(path);
  }
  const v1::ChildRecord record = FullRecord(/*sensitive=*/false);
  const Names unlisted = Minus(SetNames(record), listed);
  for (Role role : kEveryRole) {
    const Names kept = SetNames(TrimmedFor(GrantOf({role}), record));
    EXPECT_THAT(Intersection(kept, unlisted), IsEmpty()) << Role_Name(role);
    EXPECT_THAT(Minus(kept, ExpectedRecordFieldsOf(role)), IsEmpty()) << Role_Name(role);
  }
}

TEST(RecordFieldsTest, NoRoleIsGivenAFieldThisTestDoesNotExpect) {
  // The allow-lists, read directly: a field added to one must be added here, deliberately.
  for (Role role : kEveryRole) {
    const auto& paths = ChildRecordFieldsOf(role).paths();
    EXPECT_THAT(Names(paths.begin(), paths.end()),
                UnorderedElementsAreArray(ExpectedRecordFieldsOf(role)))
        << Role_Name(role);
  }
}

// --- A sensitive record's address --------------------------------------------------------------

TEST(RecordFieldsTest, ASensitiveRecordLosesItsAddressForEveryRoleButTheDataTeam) {
  const v1::ChildRecord record = FullRecord(/*sensitive=*/true);
  for (Role role : kEveryRole) {
    const v1::ChildRecord trimmed = TrimmedFor(GrantOf({role}), record);
    if (role == ROLE_LA_DATA_TEAM) {
      EXPECT_EQ(trimmed.address_lines_size(), record.address_lines_size());
      EXPECT_EQ(trimmed.postcode(), record.postcode());
      EXPECT_TRUE(trimmed.sensitive());
    } else {
      EXPECT_EQ(trimmed.address_lines_size(), 0) << Role_Name(role);
      EXPECT_EQ(trimmed.postcode(), "") << Role_Name(role);
    }
  }
}

TEST(RecordFieldsTest, ARoleThatDoesNotSeeTheSensitiveFlagStillLosesTheAddress) {
  const v1::ChildRecord record = FullRecord(/*sensitive=*/true);
  const v1::ChildRecord centre = TrimmedFor(GrantOf({ROLE_CHILDRENS_CENTRE}), record);
  EXPECT_FALSE(centre.sensitive()) << "a centre does not see the flag";
  EXPECT_EQ(centre.address_lines_size(), 0);
  EXPECT_EQ(centre.postcode(), "");
  EXPECT_FALSE(centre.given_name().empty()) << "the rest of what a centre sees stays";

  const v1::ChildRecord school = TrimmedFor(GrantOf({ROLE_SCHOOL}), record);
  EXPECT_FALSE(school.sensitive());
  EXPECT_EQ(school.address_lines_size(), 0);
  EXPECT_EQ(school.postcode(), "");
}

TEST(RecordFieldsTest, OnlyTheDataTeamSeesASensitiveAddress) {
  for (Role role : kEveryRole) {
    EXPECT_EQ(SeesSensitiveAddress(role), role == ROLE_LA_DATA_TEAM) << Role_Name(role);
  }
  EXPECT_FALSE(SeesSensitiveAddress(ROLE_UNSPECIFIED));
}

// --- Several roles -----------------------------------------------------------------------------

TEST(RecordFieldsTest, AGrantOfTwoRolesKeepsTheUnionOfTheirFields) {
  const v1::ChildRecord record = FullRecord(/*sensitive=*/false);
  ExpectKeptExactly(record, TrimmedFor(GrantOf({ROLE_SCHOOL, ROLE_CHILDRENS_CENTRE}), record),
                    Union(kWhatSchoolsSee, kWhatCentresSee));
  ExpectKeptExactly(record, TrimmedFor(GrantOf({ROLE_REGISTRAR, ROLE_SCHOOL}), record),
                    Union(kWhatRegistrarsSee, kWhatSchoolsSee));
  ExpectKeptExactly(record, TrimmedFor(GrantOf({ROLE_SCHOOL, ROLE_AUDITOR}), record),
                    kWhatSchoolsSee);
}

TEST(RecordFieldsTest, AGrantOfTwoRolesShowsASensitiveAddressOnlyIfOneIsTheDataTeam) {
  const v1::ChildRecord record = FullRecord(/*sensitive=*/true);
  ExpectKeptExactly(record,
                    TrimmedFor(GrantOf({ROLE_CHILDRENS_CENTRE, ROLE_HEALTH_VISITING}), record),
                    Minus(kWholeRecord, kAddress));
  ExpectKeptExactly(record, TrimmedFor(GrantOf({ROLE_CHILDRENS_CENTRE, ROLE_LA_DATA_TEAM}), record),
                    kWholeRecord);
  ExpectKeptExactly(record, TrimmedFor(GrantOf({ROLE_SCHOOL, ROLE_LA_DATA_TEAM}), record),
                    kWholeRecord);
}

// --- A feed event's child ----------------------------------------------------------------------

TEST(RecordFieldsTest, AChildrensCentreKeepsAllOfAFeedEventsChild) {
  const v1::CentreChild child = FullCentreChild(/*restricted=*/false);
  ExpectKeptExactly(child, TrimmedFor(GrantOf({ROLE_CHILDRENS_CENTRE}), child), kWholeCentreChild);
}

TEST(RecordFieldsTest, ARestrictedFeedChildLosesItsAddressUnlessTheDataTeamReadsIt) {
  const v1::CentreChild child = FullCentreChild(/*restricted=*/true);
  ExpectKeptExactly(child, TrimmedFor(GrantOf({ROLE_CHILDRENS_CENTRE}), child),
                    Minus(kWholeCentreChild, kAddress));
  ExpectKeptExactly(child, TrimmedFor(GrantOf({ROLE_CHILDRENS_CENTRE, ROLE_LA_DATA_TEAM}), child),
                    kWholeCentreChild);
  ExpectKeptExactly(child, TrimmedFor(GrantOf({ROLE_CHILDRENS_CENTRE, ROLE_SCHOOL}), child),
                    Minus(kWholeCentreChild, kAddress));
}

TEST(RecordFieldsTest, NoRoleButAChildrensCentreKeepsAnythingOfAFeedEventsChild) {
  for (bool restricted : {false, true}) {
    for (Role role : kEveryRole) {
      if (role == ROLE_CHILDRENS_CENTRE) continue;
      EXPECT_THAT(SetNames(TrimmedFor(GrantOf({role}), FullCentreChild(restricted))), IsEmpty())
          << Role_Name(role) << (restricted ? ", restricted" : "");
    }
  }
}

TEST(RecordFieldsTest, AFeedChildFieldOnNoListIsClearedForACentre) {
  const auto& paths = CentreChildFieldsOf(ROLE_CHILDRENS_CENTRE).paths();
  const Names listed(paths.begin(), paths.end());
  const v1::CentreChild child = FullCentreChild(/*restricted=*/false);
  const Names kept = SetNames(TrimmedFor(GrantOf({ROLE_CHILDRENS_CENTRE}), child));
  EXPECT_THAT(Intersection(kept, Minus(SetNames(child), listed)), IsEmpty());
  EXPECT_THAT(listed, UnorderedElementsAreArray(kWholeCentreChild));
}

// --- The names of the fields set ---------------------------------------------------------------

TEST(RecordFieldsTest, SetFieldNamesListsExactlyTheFieldsSet) {
  EXPECT_THAT(SetFieldNames(v1::ChildRecord()), IsEmpty());

  v1::ChildRecord record;
  record.set_child_id("fictional-id");
  record.add_former_upns("fictional-upn");
  record.mutable_date_of_birth();
  record.set_sensitive(false);  // a proto3 default is not set
  record.set_given_name("");
  EXPECT_THAT(SetFieldNames(record),
              UnorderedElementsAreArray({"child_id", "former_upns", "date_of_birth"}));

  EXPECT_THAT(SetFieldNames(FullRecord(/*sensitive=*/true)),
              UnorderedElementsAreArray(FieldNamesOf(v1::ChildRecord::descriptor())));

  v1::CentreChild child;
  child.set_restricted(true);
  child.add_address_lines("1 Fictional Street");
  EXPECT_THAT(SetFieldNames(child), UnorderedElementsAreArray({"restricted", "address_lines"}));
}

TEST(RecordFieldsTest, SetFieldNamesOfATrimmedRecordIsWhatTheRoleKept) {
  const v1::ChildRecord trimmed = TrimmedFor(GrantOf({ROLE_SCHOOL}), FullRecord(false));
  EXPECT_THAT(SetFieldNames(trimmed), UnorderedElementsAreArray(kWhatSchoolsSee));
}

// --- What the audit log is told was returned
// -----------------------------------------------

TEST(RecordFieldsTest, ReturnedFieldNamesAreTheFieldsTheTrimLeavesForEveryRoleAndPairOfRoles) {
  for (bool sensitive : {false, true}) {
    const v1::ChildRecord record = FullRecord(sensitive);
    for (Role first : kEveryRole) {
      for (Role second : kEveryRole) {
        const MethodGrant grant = first == second ? GrantOf({first}) : GrantOf({first, second});
        const std::vector<std::string> returned = ReturnedFieldNames(grant, record);
        EXPECT_EQ(Names(returned.begin(), returned.end()), SetNames(TrimmedFor(grant, record)))
            << Role_Name(first) << " with " << Role_Name(second)
            << (sensitive ? ", sensitive" : "");
      }
    }
  }
}

}  // namespace
}  // namespace cir::access

namespace cir::access {
namespace {

// A feed event with every field of its own set, by reflection, so that a field added to
// FeedEvent later is covered.
v1::FeedEvent EveryFeedEventField() {
  v1::FeedEvent event;
  const google::protobuf::Reflection* reflection = event.GetReflection();
  const google::protobuf::Descriptor* descriptor = event.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    switch (field->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
        reflection->SetString(&event, field, "x");
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        reflection->SetUInt64(&event, field, 7);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        reflection->SetInt64(&event, field, 7);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_ENUM:
        reflection->SetEnumValue(&event, field, 1);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE:
        reflection->MutableMessage(&event, field);
        break;
      default:
        ADD_FAILURE() << "a FeedEvent field of a type this test does not set: " << field->name();
    }
  }
  event.mutable_child()->set_given_name("Ada");
  return event;
}

TEST(RecordFieldsTest, AChildrensCentreKeepsEveryFieldOfAFeedEventItIsGivenAndNoOtherRoleAny) {
  const v1::FeedEvent full = EveryFeedEventField();
  v1::FeedEvent centre = full;
  TrimFeedEvent(MethodGrant{{{ROLE_CHILDRENS_CENTRE, false, true}}}, centre);
  EXPECT_EQ(SetFieldNames(centre).size(), SetFieldNames(full).size())
      << "a FeedEvent field no role is given: list it in FeedEventFieldsOf, or decide it is hidden";
  for (Role role : {ROLE_MATERNITY, ROLE_HEALTH_VISITING, ROLE_SCHOOL, ROLE_LA_DATA_TEAM,
                    ROLE_REGISTRAR, ROLE_AUDITOR, ROLE_OPERATOR}) {
    v1::FeedEvent other = full;
    TrimFeedEvent(MethodGrant{{{role, false, false}}}, other);
    EXPECT_TRUE(SetFieldNames(other).empty()) << Role_Name(role);
  }
}

}  // namespace
}  // namespace cir::access
