#include "tests/testing/fictional_children.h"

#include "absl/strings/str_format.h"
#include "identifiers/nhs_number.h"
#include "identifiers/upn.h"

namespace cir::testing {

std::string FictionalNhsNumber(uint32_t n) {
  // 999, then n as five digits, then a ninth digit d. Over d = 0..9 the weighted sum takes ten
  // different values modulo 11 (d has weight 2), so at most one d gives check value 10: the first
  // d that does not is taken. Distinct n (below 100,000) give distinct numbers.
  for (int d = 0; d < 10; ++d) {
    std::string digits = absl::StrFormat("999%05u%d", n % 100000, d);
    int check = identifiers::NhsCheckDigit(digits);
    if (check >= 0) return digits + static_cast<char>('0' + check);
  }
  return "";  // unreachable: see above
}

std::string FictionalUpn(uint32_t n, int la) {
  std::string rest = absl::StrFormat("%03d2000%02d%03u", la, 26 + (n / 1000) % 74, n % 1000);
  return identifiers::UpnCheckLetter(rest) + rest;
}

v1::RegisterBirthRequest FictionalBirth(const std::string& notification_id,
                                        const std::string& nhs_number) {
  v1::RegisterBirthRequest request;
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
  return request;
}

}  // namespace cir::testing
