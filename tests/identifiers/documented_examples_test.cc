// Every identifier shown as an example in the README and the public contract is a valid one, so
// that a developer who copies an example gets past validation to the behaviour it illustrates.

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "identifiers/child_id.h"
#include "identifiers/nhs_number.h"
#include "identifiers/upn.h"

namespace cir::identifiers {
namespace {

std::string ReadSource(const std::string& relative_path) {
  std::ifstream file(std::string(CIR_SOURCE_DIR) + "/" + relative_path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Every match of `pattern` in the file, as written.
std::vector<std::string> Examples(const std::string& relative_path, const std::regex& pattern) {
  std::string text = ReadSource(relative_path);
  std::vector<std::string> found;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
       it != std::sregex_iterator(); ++it) {
    found.push_back(it->str());
  }
  return found;
}

class DocumentedExamplesTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DocumentedExamplesTest, EveryExampleIdentifierIsValid) {
  const std::string file = GetParam();
  ASSERT_FALSE(ReadSource(file).empty()) << file << " is missing";
  int examples = 0;
  for (const std::string& id :
       Examples(file, std::regex(R"(\b[A-Z]{4}-[A-Z0-9]{4}-[A-Z0-9]{3}\b|\b[A-Z]{4}[A-Z0-9]{7}\b)"))) {
    if (id.find_first_of("0123456789") == std::string::npos && id.find('-') == std::string::npos) {
      continue;  // an upper-case word, not an identifier
    }
    EXPECT_TRUE(ParseChildId(id).ok()) << file << ": child identifier " << id;
    ++examples;
  }
  for (const std::string& nhs : Examples(file, std::regex(R"(\b\d{3}[ -]\d{3}[ -]\d{4}\b|\b\d{10}\b)"))) {
    EXPECT_TRUE(ParseNhsNumber(nhs).ok()) << file << ": NHS number " << nhs;
    ++examples;
  }
  for (const std::string& upn : Examples(file, std::regex(R"(\b[A-Z]\d{12}\b|\b[A-Z]\d{11}[A-Z]\b)"))) {
    EXPECT_TRUE(ParseUpn(upn).ok()) << file << ": UPN " << upn;
    ++examples;
  }
  EXPECT_GT(examples, 0) << file << " shows no example at all: has the pattern gone stale?";
}

INSTANTIATE_TEST_SUITE_P(ReadmeAndContract, DocumentedExamplesTest,
                         ::testing::Values("README.md", "proto/cir/v1/registry.proto"));

}  // namespace
}  // namespace cir::identifiers
