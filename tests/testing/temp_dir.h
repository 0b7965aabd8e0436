#ifndef CIR_TESTS_TESTING_TEMP_DIR_H_
#define CIR_TESTS_TESTING_TEMP_DIR_H_

#include <filesystem>
#include <string>

namespace cir::testing {

// A fresh, empty folder under the system's temporary folder, removed with everything in it when
// the object goes out of scope. Each test gets its own, so tests never share data.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_TEMP_DIR_H_
