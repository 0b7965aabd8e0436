#include "tests/testing/fictional_children.h"

#include "absl/strings/str_format.h"
#include "identifiers/nhs_number.h"
#include "identifiers/upn.h"

namespace cir::testing {

std::string FictionalNhsNumber(uint32_t n) { return identifiers::TestRangeNhsNumber(n); }

std::string FictionalUpn(uint32_t n, int la) {
  std::string rest = absl::StrFormat("%03d2000%02d%03u", la, 26 + (n / 1000) % 74, n % 1000);
  return identifiers::UpnCheckLetter(rest) + rest;
}

std::string FictionalTemporaryUpn(uint32_t n, int la) {
  std::string rest =
      absl::StrFormat("%03d2000%02d%02uA", la, 26 + (n / 100) % 74, n % 100);
  return identifiers::UpnCheckLetter(rest) + rest;
}

std::string FictionalMotherNhsNumber() { return FictionalNhsNumber(899999); }

v1::RegisterBirthRequest FictionalBirth(const std::string& notification_id,
                                        const std::string& nhs_number) {
  v1::RegisterBirthRequest request;
  request.set_notifying_system(kFictionalNotifyingSystem);
  request.set_notification_id(notification_id);
  request.set_nhs_number(nhs_number);
  request.mutable_date_of_birth()->set_year(2026);
  request.mutable_date_of_birth()->set_month(3);
  request.mutable_date_of_birth()->set_day(14);
  request.set_sex(v1::SEX_FEMALE);
  request.set_given_name("Ada");
  request.set_family_name("Lovelace-Test");
  request.set_postcode("RH12 1AA");
  request.set_local_authority("938");
  request.set_birth_order(1);
  request.set_mother_nhs_number(FictionalMotherNhsNumber());
  request.set_mother_given_name("Mary");
  request.set_mother_family_name("Lovelace-Test");
  return request;
}

}  // namespace cir::testing
