#include "server/log.h"

#include <atomic>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cir/v1/registry.pb.h"
#include "errors/refusal.h"

namespace cir::server {
namespace {

std::atomic<LogFormat> format{LogFormat::kText};

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
}

// `text` as a JSON string, quotes included: every control character and every byte outside
// printable ASCII escaped, so that nothing a caller sent can end the object or the line.
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      absl::StrAppend(&out, "\\u00", absl::BytesToHexString(std::string(1, static_cast<char>(c))));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void Write(std::string line) {
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write: lines never interleave
}

void WriteJson(const std::vector<std::pair<const char*, std::string>>& fields) {
  std::string line = absl::StrCat("{\"time\":", JsonString(Now()));
  for (const auto& [name, value] : fields)
    absl::StrAppend(&line, ",\"", name, "\":", JsonString(value));
  Write(line + "}");
}

}  // namespace

void SetLogFormat(LogFormat to) { format = to; }

void LogLine(absl::string_view message) {
  if (format == LogFormat::kJson) {
    WriteJson({{"message", std::string(message)}});
    return;
  }
  // Escaped, so that nothing a caller sent can start a line of its own.
  Write(absl::StrCat(Now(), " ", absl::CHexEscape(message)));
}

void LogCallFailed(absl::string_view method, const absl::Status& status) {
  const std::string code = absl::StatusCodeToString(status.code());
  const std::string reason = v1::ErrorReason_Name(errors::ReasonOf(status));
  if (format == LogFormat::kJson) {
    WriteJson({{"event", "call_failed"},
               {"method", std::string(method)},
               {"code", code},
               {"reason", reason}});
    return;
  }
  Write(absl::StrCat(Now(), " ", absl::CHexEscape(method), " failed: ", code, " ", reason));
}

}  // namespace cir::server
