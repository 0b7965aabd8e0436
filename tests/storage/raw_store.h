#ifndef CIR_TESTS_STORAGE_RAW_STORE_H_
#define CIR_TESTS_STORAGE_RAW_STORE_H_

// Stores written with raw RocksDB, as an earlier (or a later) release of the registry would have
// left them, for the tests of schema migrations.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace cir::storage::testing {

// A raw store's column families by name.
using RawFamilies = std::map<std::string, rocksdb::ColumnFamilyHandle*>;

// Writes a database at `path` with the column families `names` besides "default", filled by
// `fill` (which may also read). Opens an existing one the same way.
inline void WriteRawStore(const std::string& path, const std::vector<std::string>& names,
                          const std::function<void(rocksdb::DB&, RawFamilies&)>& fill) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {"default", rocksdb::ColumnFamilyOptions()}};
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path, descriptors, &handles, &db).ok());
  RawFamilies families;
  for (rocksdb::ColumnFamilyHandle* handle : handles) families[handle->GetName()] = handle;
  fill(*db, families);
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
}

}  // namespace cir::storage::testing

#endif  // CIR_TESTS_STORAGE_RAW_STORE_H_
