#ifndef CIR_TESTS_TESTING_INSTALLED_CLIENT_PACKAGE_H_
#define CIR_TESTS_TESTING_INSTALLED_CLIENT_PACKAGE_H_

// A test suite's fixture base for tests that build programs against the client package: the
// package of the build is installed once for the whole suite, into a folder of the suite's own.
// The including test target defines CIR_BUILD_DIR, the build whose package it installs.

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/client_package.h"
#include "tests/testing/temp_dir.h"

namespace cir::testing {

class InstalledClientPackageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    install_dir_ = new TempDir();
    CommandRun install = InstallClientPackage(CIR_BUILD_DIR, Prefix());
    ASSERT_EQ(install.exit_code, 0) << install.output;
  }
  static void TearDownTestSuite() {
    delete install_dir_;
    install_dir_ = nullptr;
  }

  // Where the package is installed, and the folder of its shared library there.
  static std::string Prefix() { return install_dir_->Sub("prefix"); }
  static std::string LibDir() { return ClientLibraryDir(Prefix()); }

 private:
  static inline TempDir* install_dir_ = nullptr;
};

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_INSTALLED_CLIENT_PACKAGE_H_
