#ifndef CIR_TESTS_STORAGE_FICTIONAL_STORE_H_
#define CIR_TESTS_STORAGE_FICTIONAL_STORE_H_

// Fictional children written straight into a store, whole, and the bytes of a folder's files:
// for the storage tests that look for a child's details on disk (encryption, backups).

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "identifiers/child_id.h"
#include "storage/child_store.h"
#include "tests/storage/store_testing.h"
#include "tests/testing/fictional_children.h"

namespace cir::storage::testing {

// A fictional child's identifiers, as registered.
struct FictionalChild {
  std::string child_id;
  std::string nhs_number;
  std::string upn;
};

inline std::vector<FictionalChild> FictionalChildren(int count, int first = 0) {
  std::vector<FictionalChild> children;
  for (int n = first; n < first + count; ++n) {
    children.push_back({identifiers::GenerateChildId(), cir::testing::FictionalNhsNumber(n),
                        cir::testing::FictionalUpn(n)});
  }
  return children;
}

// A unit registering `children`: each record whole (names, address, mother), its NHS number and
// UPN indexed, an event about it.
inline WriteWork RegisterAll(std::vector<FictionalChild> children) {
  return [children = std::move(children)](WriteTxn& txn) {
    for (const FictionalChild& fictional : children) {
      const v1::RegisterBirthRequest birth = cir::testing::FictionalBirth(
          absl::StrCat("N-", fictional.child_id), fictional.nhs_number);
      StoredChild child = Child(fictional.child_id);
      child.set_nhs_number(fictional.nhs_number);
      child.set_upn(fictional.upn);
      child.set_given_name(birth.given_name());
      child.set_family_name(birth.family_name());
      child.set_postcode(birth.postcode());
      child.set_mother_nhs_number(birth.mother_nhs_number());
      child.set_mother_given_name(birth.mother_given_name());
      child.set_mother_family_name(birth.mother_family_name());
      child.set_notification_id(birth.notification_id());
      child.add_address_lines("1 Fictional Street");
      absl::Status s = txn.PutChild(child);
      if (s.ok()) {
        s = txn.PutIndex(IndexKind::kNhsNumber, fictional.nhs_number,
                         IndexEntry{fictional.child_id, ""});
      }
      if (s.ok()) {
        s = txn.PutIndex(IndexKind::kUpn, fictional.upn, IndexEntry{fictional.child_id, ""});
      }
      if (s.ok()) s = AppendEvent(txn, fictional.child_id);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  };
}

// Every file under `folder`, by path, with its bytes.
inline std::map<std::string, std::string> FilesUnder(const std::string& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    files[entry.path().string()] = bytes.str();
  }
  return files;
}

}  // namespace cir::storage::testing

#endif  // CIR_TESTS_STORAGE_FICTIONAL_STORE_H_
