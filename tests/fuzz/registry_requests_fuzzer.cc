// Fuzzes every RPC's request through the registry's own entry points, the calls the gRPC services
// make (server/registry_service.cc: Registry and LifeEvents; server/feed_service.cc: the feed's
// validation and reader), against a real RocksDB store (tests/fuzz/fuzz_store.h).
//
//   input := method actor request
//   method  := 1 byte, modulo 15, the RPC (kMethods below)
//   actor   := 1 byte: bits 0-1 the records the caller reaches (0 every record, 1 a local authority
//              data team of 938, 2 one of 201 and 873, 3 the maternity system RXH01), bit 2 a
//              production registry (refusing NHS numbers of the test range), bit 3 an agency of
//              its own (whose request ids are its own)
//   request := the request message in protobuf's wire format, as gRPC would hand it over; bytes
//              that do not parse as one are not a call (gRPC refuses them) and are skipped
//
// Four children are registered when the process starts (kSeeded below); a string field of the
// request that is exactly "@0", "@1", "@2" or "@3" is replaced by the identifier of that child, so
// that inputs can name children whose identifiers are drawn at random. The store's state carries
// over from one input to the next, so an input that breaks a property may need the inputs before
// it to do so again: the property's message says the request and the answer.
//
// Beyond not crashing, every call is checked:
// - It is answered exactly once (a second answer would throw inside the store's reply thread).
// - A refusal has a code that bad input can earn (never INTERNAL, UNKNOWN, DATA_LOSS or
//   UNAVAILABLE), a reason (errors/refusal.h) and a message, and neither its message nor its
//   metadata repeats an identifier the request carried.
// - A refusal changes nothing: no event is appended to the log, no area's feed moves, and every
//   child, identifier, notification and request id the request names reads as it did before.
// - An answer's records carry a canonical child identifier, and a status and version (but for
//   a birth registered by another notification, answered with the child's identifiers alone); a
//   batch answers each identifier once.
// - A bulk registration (RegisterBirths) answers each birth once, in order: a birth registered
//   as a record RegisterBirth would answer, a birth refused with a refusal held to the rules of a
//   refused call; and a birth refused changes nothing of its own (its notification, its NHS
//   number) where no other birth of the call names the same.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cir/v1/registry.pb.h"
#include "errors/refusal.h"
#include "feed/feed_reader.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "identifiers/child_id.h"
#include "identifiers/local_authority.h"
#include "identifiers/nhs_number.h"
#include "identifiers/upn.h"
#include "registry/actor.h"
#include "registry/life_events.h"
#include "registry/registry.h"
#include "storage/child_store.h"
#include "storage/key_codec.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_store.h"

namespace cir::fuzz {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// ---- The methods -----------------------------------------------------------------------------

enum class Method {
  kRegisterBirth,
  kResolve,
  kLinkUpn,
  kLinkNhsNumber,
  kBatchResolve,
  kRecordDeath,
  kChangeAddress,
  kCorrectDetails,
  kSupersedeNhsNumber,
  kMergeRecords,
  kUndoMerge,
  kRestrictSharing,
  kListEvents,
  kSubscribe,
  kRegisterBirths,
};
constexpr int kMethodCount = 15;

struct MethodInfo {
  const char* name;
  const Message* prototype;
  bool life_event;  // has request_id, recorded with its response
};

const MethodInfo& InfoOf(Method method) {
  static const MethodInfo kMethods[kMethodCount] = {
      {"RegisterBirth", &v1::RegisterBirthRequest::default_instance(), false},
      {"Resolve", &v1::ResolveRequest::default_instance(), false},
      {"LinkUpn", &v1::LinkUpnRequest::default_instance(), false},
      {"LinkNhsNumber", &v1::LinkNhsNumberRequest::default_instance(), false},
      {"BatchResolve", &v1::BatchResolveRequest::default_instance(), false},
      {"RecordDeath", &v1::RecordDeathRequest::default_instance(), true},
      {"ChangeAddress", &v1::ChangeAddressRequest::default_instance(), true},
      {"CorrectDetails", &v1::CorrectDetailsRequest::default_instance(), true},
      {"SupersedeNhsNumber", &v1::SupersedeNhsNumberRequest::default_instance(), true},
      {"MergeRecords", &v1::MergeRecordsRequest::default_instance(), true},
      {"UndoMerge", &v1::UndoMergeRequest::default_instance(), true},
      {"RestrictSharing", &v1::RestrictSharingRequest::default_instance(), true},
      {"ListEvents", &v1::ListEventsRequest::default_instance(), false},
      {"Subscribe", &v1::SubscribeRequest::default_instance(), false},
      {"RegisterBirths", &v1::RegisterBirthsRequest::default_instance(), false},
  };
  return kMethods[static_cast<int>(method)];
}

// Who calls: the actor the service would make, and which registry answers.
struct Caller {
  registry::Actor actor;
  bool production = false;
};

Caller CallerOf(uint8_t bits) {
  Caller caller;
  switch (bits & 3) {
    case 0:
      break;  // every record
    case 1:
      caller.actor.scope = registry::RecordScope{.local_authorities = {"938"}};
      break;
    case 2:
      caller.actor.scope = registry::RecordScope{.local_authorities = {"201", "873"}};
      break;
    case 3:
      caller.actor.scope = registry::RecordScope{.notifying_systems = {"RXH01"}};
      break;
  }
  caller.production = (bits & 4) != 0;
  if ((bits & 8) != 0) caller.actor.agency_id = "fuzz-agency";
  return caller;
}

// ---- Strings of a request ----------------------------------------------------------------------

// Calls `visit` with every string value set in `message` and the messages in it, and stores back
// what it leaves there.
void ForEachString(Message& message, const std::function<void(std::string&)>& visit) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          std::string value = reflection->GetRepeatedString(message, field, i);
          const std::string before = value;
          visit(value);
          if (value != before) reflection->SetRepeatedString(&message, field, i, std::move(value));
        }
      } else {
        std::string value = reflection->GetString(message, field);
        const std::string before = value;
        visit(value);
        if (value != before) reflection->SetString(&message, field, std::move(value));
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          ForEachString(*reflection->MutableRepeatedMessage(&message, field, i), visit);
        }
      } else {
        ForEachString(*reflection->MutableMessage(&message, field), visit);
      }
    }
  }
}

std::vector<std::string> StringsOf(const Message& message) {
  std::unique_ptr<Message> copy(message.New());
  copy->CopyFrom(message);
  std::vector<std::string> strings;
  ForEachString(*copy, [&strings](std::string& value) { strings.push_back(value); });
  return strings;
}

// The identifiers a request carries, canonical, by kind.
struct NamedIdentifiers {
  std::vector<std::string> child_ids;
  std::vector<std::string> nhs_numbers;
  std::vector<std::string> upns;
  std::vector<std::string> local_authorities;
  // Every identifier as sent and as canonical, for what a refusal must not repeat.
  std::vector<std::string> texts;
};

NamedIdentifiers IdentifiersOf(const Message& request) {
  NamedIdentifiers named;
  for (const std::string& value : StringsOf(request)) {
    bool identifier = false;
    if (absl::StatusOr<std::string> id = identifiers::ParseChildId(value); id.ok()) {
      named.child_ids.push_back(*id);
      named.texts.push_back(*id);
      identifier = true;
    }
    if (absl::StatusOr<std::string> nhs = identifiers::ParseNhsNumber(value); nhs.ok()) {
      named.nhs_numbers.push_back(*nhs);
      named.texts.push_back(*nhs);
      identifier = true;
    }
    if (absl::StatusOr<std::string> upn = identifiers::ParseUpn(value); upn.ok()) {
      named.upns.push_back(*upn);
      named.texts.push_back(*upn);
      identifier = true;
    }
    if (identifier) named.texts.push_back(value);
    if (absl::StatusOr<std::string> area = identifiers::ParseLocalAuthority(value); area.ok()) {
      named.local_authorities.push_back(*area);
    }
  }
  return named;
}

// ---- The children registered at start --------------------------------------------------------

v1::RegisterBirthRequest SeedBirth(const std::string& notification_id, const std::string& system,
                                   const std::string& nhs_number, absl::CivilDay born, v1::Sex sex,
                                   const std::string& given_name, const std::string& postcode,
                                   const std::string& area) {
  v1::RegisterBirthRequest birth;
  birth.set_notification_id(notification_id);
  birth.set_notifying_system(system);
  birth.set_nhs_number(nhs_number);
  birth.mutable_date_of_birth()->set_year(static_cast<int32_t>(born.year()));
  birth.mutable_date_of_birth()->set_month(born.month());
  birth.mutable_date_of_birth()->set_day(born.day());
  birth.set_sex(sex);
  birth.set_given_name(given_name);
  birth.set_family_name("Fictional");
  birth.add_address_lines(absl::StrCat("1 Test Row ", area));
  birth.add_address_lines("Fictional Town");
  birth.set_postcode(postcode);
  birth.set_local_authority(area);
  return birth;
}

// The children "@0" to "@3" name:
//   @0  RXH01 "seed-0", NHS number 999 000 0018, 938, the first of twins (mother 999 999 9999)
//   @1  RJ1 "seed-1", no NHS number, 201, UPN B801200005001
//   @2  RXH01 "seed-2", NHS number 999 000 0034, 938, the second twin
//   @3  RJ1 "seed-3", NHS number 999 000 0042, 873
std::vector<std::string> RegisterSeededChildren() {
  const FuzzStore& shared = SharedStore();
  std::vector<v1::RegisterBirthRequest> births = {
      SeedBirth("seed-0", "RXH01", "9990000018", absl::CivilDay(2026, 11, 20), v1::SEX_FEMALE,
                "Ada", "RH12 1AA", "938"),
      SeedBirth("seed-1", "RJ1", "", absl::CivilDay(2026, 10, 1), v1::SEX_MALE, "Ben", "EC2V 7HH",
                "201"),
      SeedBirth("seed-2", "RXH01", "9990000034", absl::CivilDay(2026, 11, 20), v1::SEX_FEMALE,
                "Grace", "RH12 1AA", "938"),
      SeedBirth("seed-3", "RJ1", "9990000042", absl::CivilDay(2026, 9, 9), v1::SEX_NOT_KNOWN, "",
                "CB2 1TN", "873"),
  };
  for (int twin : {0, 2}) {
    births[twin].set_birth_order(twin == 0 ? 1 : 2);
    births[twin].set_mother_nhs_number("9999999999");
    births[twin].set_mother_family_name("Fictional");
  }
  std::vector<std::string> ids;
  for (const v1::RegisterBirthRequest& birth : births) {
    absl::StatusOr<v1::RegisterBirthResponse> registered = WaitForReply<v1::RegisterBirthResponse>(
        [&](auto reply) { shared.registry->RegisterBirth(birth, std::move(reply)); });
    CIR_FUZZ_CHECK(registered.ok(), registered.status().ToString());
    ids.push_back(registered->record().child_id());
  }
  v1::LinkUpnRequest upn;
  upn.set_child_id(ids[1]);
  upn.set_upn("B801200005001");
  absl::StatusOr<v1::LinkUpnResponse> linked = WaitForReply<v1::LinkUpnResponse>(
      [&](auto reply) { shared.registry->LinkUpn(upn, std::move(reply)); });
  CIR_FUZZ_CHECK(linked.ok(), linked.status().ToString());
  return ids;
}

const std::vector<std::string>& SeededChildren() {
  static const std::vector<std::string> ids = RegisterSeededChildren();
  return ids;
}

void NameSeededChildren(Message& request) {
  const std::vector<std::string>& ids = SeededChildren();
  ForEachString(request, [&ids](std::string& value) {
    if (value.size() == 2 && value[0] == '@' && value[1] >= '0' && value[1] <= '3') {
      value = ids[value[1] - '0'];
    }
  });
}

// ---- What a refusal must leave as it was -----------------------------------------------------

// The last sequence of the event log seen so far.
uint64_t last_event = 0;

// Moves last_event to the end of the log; returns how many events it passed.
size_t CatchUpWithEventLog(storage::ChildStore& store) {
  size_t passed = 0;
  while (true) {
    absl::StatusOr<std::vector<storage::StoredEvent>> events = store.ReadEvents(last_event, 1000);
    CIR_FUZZ_CHECK(events.ok(), events.status().ToString());
    if (events->empty()) return passed;
    last_event = events->back().sequence();
    passed += events->size();
  }
}

std::string Describe(const absl::StatusOr<std::optional<storage::StoredChild>>& child) {
  if (!child.ok()) return child.status().ToString();
  if (!child->has_value()) return "absent";
  return (*child)->SerializeAsString();
}

std::string Describe(const absl::StatusOr<std::optional<storage::IndexEntry>>& entry) {
  if (!entry.ok()) return entry.status().ToString();
  if (!entry->has_value()) return "absent";
  return absl::StrCat((*entry)->child_id, "/", Printable((*entry)->fingerprint));
}

// The notification index key of `birth`, as the registry would make it.
std::string NotificationKeyOf(const v1::RegisterBirthRequest& birth) {
  const std::string system =
      absl::AsciiStrToUpper(absl::StripAsciiWhitespace(birth.notifying_system()));
  return storage::NotificationIndexValue(system, birth.notification_id());
}

// The notification index keys a registration names: one for RegisterBirth, one a birth for
// RegisterBirths.
std::vector<std::string> NotificationKeysOf(Method method, const Message& request) {
  std::vector<std::string> keys;
  if (method == Method::kRegisterBirth) {
    keys.push_back(NotificationKeyOf(static_cast<const v1::RegisterBirthRequest&>(request)));
  }
  if (method == Method::kRegisterBirths) {
    for (const v1::RegisterBirthRequest& birth :
         static_cast<const v1::RegisterBirthsRequest&>(request).births()) {
      keys.push_back(NotificationKeyOf(birth));
    }
  }
  return keys;
}

// The store's state as far as `request` (of `method`, by `caller`) could change it: each part
// named, so that a change says where it is.
using Snapshot = std::vector<std::pair<std::string, std::string>>;

Snapshot Take(storage::ChildStore& store, Method method, const Message& request,
              const Caller& caller) {
  Snapshot snapshot;
  const NamedIdentifiers named = IdentifiersOf(request);
  auto child = [&](const std::string& id) {
    snapshot.emplace_back(absl::StrCat("child ", id), Describe(store.GetChild(id)));
    snapshot.emplace_back(absl::StrCat("retired id ", id),
                          Describe(store.Lookup(storage::IndexKind::kRetiredChildId, id)));
  };
  for (const std::string& id : SeededChildren()) child(id);
  for (const std::string& id : named.child_ids) child(id);
  for (const std::string& nhs : named.nhs_numbers) {
    snapshot.emplace_back(absl::StrCat("NHS number ", nhs),
                          Describe(store.Lookup(storage::IndexKind::kNhsNumber, nhs)));
  }
  for (const std::string& upn : named.upns) {
    snapshot.emplace_back(absl::StrCat("UPN ", upn),
                          Describe(store.Lookup(storage::IndexKind::kUpn, upn)));
  }
  for (const std::string& key : NotificationKeysOf(method, request)) {
    snapshot.emplace_back(absl::StrCat("notification ", Printable(key)),
                          Describe(store.Lookup(storage::IndexKind::kNotification, key)));
  }
  std::vector<std::string> areas = {"938", "201", "873"};
  areas.insert(areas.end(), named.local_authorities.begin(), named.local_authorities.end());
  const std::vector<uint64_t> heads = store.AreaHeads(areas);
  for (size_t i = 0; i < areas.size(); ++i) {
    snapshot.emplace_back(absl::StrCat("feed of ", areas[i]), absl::StrCat(heads[i]));
  }
  if (InfoOf(method).life_event) {
    const Reflection* reflection = request.GetReflection();
    const std::string request_id =
        reflection->GetString(request, request.GetDescriptor()->FindFieldByName("request_id"));
    const std::string key = caller.actor.agency_id.empty()
                                ? request_id
                                : absl::StrCat(caller.actor.agency_id, "/", request_id);
    std::string recorded;
    const absl::Status read = RunUnit(store, [&key, &recorded](storage::WriteTxn& txn) {
      absl::StatusOr<std::optional<storage::StoredRequest>> seen = txn.GetRequest(key);
      if (!seen.ok()) return seen.status();
      recorded = seen->has_value() ? (*seen)->SerializeAsString() : "absent";
      return absl::OkStatus();
    });
    CIR_FUZZ_CHECK(read.ok(), read.ToString());
    snapshot.emplace_back(absl::StrCat("request ", Printable(key)), recorded);
  }
  return snapshot;
}

// ---- Calling the registry --------------------------------------------------------------------

struct Answer {
  absl::Status status;
  std::unique_ptr<Message> response;  // when OK
};

template <typename Response>
Answer AnswerOf(absl::StatusOr<Response> result) {
  Answer answer;
  answer.status = result.status();
  if (result.ok()) answer.response = std::make_unique<Response>(*std::move(result));
  return answer;
}

// A write of `Registry` or `LifeEvents`, waited for.
template <typename Request, typename Response, typename Service>
Answer Write(Service& service,
             void (Service::*method)(const Request&, registry::Registry::Reply<Response>,
                                     storage::SubmitOptions, const registry::Actor&),
             const Message& request, const registry::Actor& actor) {
  return AnswerOf(WaitForReply<Response>([&](auto reply) {
    (service.*method)(static_cast<const Request&>(request), std::move(reply),
                      storage::SubmitOptions(), actor);
  }));
}

Answer Call(Method method, const Message& request, const Caller& caller) {
  const FuzzStore& shared = SharedStore();
  registry::Registry& registry = caller.production ? *shared.strict_registry : *shared.registry;
  registry::LifeEvents& life = caller.production ? *shared.strict_life_events : *shared.life_events;
  const registry::Actor& actor = caller.actor;
  using registry::LifeEvents;
  using registry::Registry;
  switch (method) {
    case Method::kRegisterBirth:
      return Write(registry, &Registry::RegisterBirth, request, actor);
    case Method::kRegisterBirths:
      return AnswerOf(WaitForReply<v1::RegisterBirthsResponse>([&](auto reply) {
        registry.RegisterBirths(static_cast<const v1::RegisterBirthsRequest&>(request),
                                std::move(reply), storage::SubmitOptions(), actor);
      }));
    case Method::kResolve:
      return AnswerOf(registry.Resolve(static_cast<const v1::ResolveRequest&>(request)));
    case Method::kLinkUpn:
      return Write(registry, &Registry::LinkUpn, request, actor);
    case Method::kLinkNhsNumber:
      return Write(registry, &Registry::LinkNhsNumber, request, actor);
    case Method::kBatchResolve:
      return AnswerOf(registry.BatchResolve(static_cast<const v1::BatchResolveRequest&>(request)));
    case Method::kRecordDeath:
      return Write(life, &LifeEvents::RecordDeath, request, actor);
    case Method::kChangeAddress:
      return Write(life, &LifeEvents::ChangeAddress, request, actor);
    case Method::kCorrectDetails:
      return Write(life, &LifeEvents::CorrectDetails, request, actor);
    case Method::kSupersedeNhsNumber:
      return Write(life, &LifeEvents::SupersedeNhsNumber, request, actor);
    case Method::kMergeRecords:
      return Write(life, &LifeEvents::MergeRecords, request, actor);
    case Method::kUndoMerge:
      return Write(life, &LifeEvents::UndoMerge, request, actor);
    case Method::kRestrictSharing:
      return Write(life, &LifeEvents::RestrictSharing, request, actor);
    case Method::kListEvents: {
      absl::StatusOr<feed::FeedRequest> valid =
          feed::ValidateListEvents(static_cast<const v1::ListEventsRequest&>(request), FuzzToday());
      if (!valid.ok()) return AnswerOf(absl::StatusOr<v1::ListEventsResponse>(valid.status()));
      feed::FeedReader reader(*shared.store);
      return AnswerOf(reader.List(*valid));
    }
    case Method::kSubscribe: {
      // What a stream does first: validate, find where it starts, read its first events.
      absl::StatusOr<feed::FeedRequest> valid =
          feed::ValidateSubscribe(static_cast<const v1::SubscribeRequest&>(request), FuzzToday());
      if (!valid.ok()) return AnswerOf(absl::StatusOr<v1::SubscribeResponse>(valid.status()));
      feed::FeedReader reader(*shared.store);
      absl::StatusOr<std::vector<storage::AreaPosition>> positions = reader.Start(*valid);
      if (!positions.ok()) {
        return AnswerOf(absl::StatusOr<v1::SubscribeResponse>(positions.status()));
      }
      absl::StatusOr<feed::FeedReader::Batch> batch = reader.ReadNext(*positions, 100);
      if (!batch.ok()) return AnswerOf(absl::StatusOr<v1::SubscribeResponse>(batch.status()));
      v1::SubscribeResponse response;
      for (v1::FeedEvent& event : batch->events) *response.add_events() = std::move(event);
      if (response.events().empty()) *response.mutable_heartbeat() = reader.Heartbeat(valid->areas);
      return AnswerOf(absl::StatusOr<v1::SubscribeResponse>(std::move(response)));
    }
  }
  return Answer{absl::InternalError("no such method"), nullptr};
}

// ---- What an answer must be ------------------------------------------------------------------

void CheckRefusal(const absl::Status& refusal, const NamedIdentifiers& named,
                  const std::string& context) {
  const std::string about = absl::StrCat(refusal.ToString(), "\n  ", context);
  CIR_FUZZ_CHECK(BadInputMayEarn(refusal.code()), about);
  CIR_FUZZ_CHECK(errors::ReasonOf(refusal) != v1::ERROR_REASON_UNSPECIFIED, about);
  CIR_FUZZ_CHECK(!refusal.message().empty(), about);
  std::vector<std::string> said = {std::string(refusal.message())};
  if (std::optional<google::rpc::ErrorInfo> info = errors::ErrorInfoOf(refusal)) {
    for (const auto& [key, value] : info->metadata()) said.push_back(value);
  }
  for (const std::string& text : said) {
    for (const std::string& identifier : named.texts) {
      CIR_FUZZ_CHECK(!absl::StrContains(text, identifier),
                     absl::StrCat("it repeats \"", Printable(identifier), "\": ", about));
    }
  }
}

// A record answered: a canonical child identifier, and a status and version unless the answer
// is a birth registered by another notification, which gets the child's identifiers alone.
void CheckRecord(Method method, const Message& response, const v1::ChildRecord& record,
                 const std::string& context) {
  absl::StatusOr<std::string> id = identifiers::ParseChildId(record.child_id());
  CIR_FUZZ_CHECK(id.ok() && *id == record.child_id(), context);
  CIR_FUZZ_CHECK(record.child_id_display() == identifiers::FormatChildId(record.child_id()),
                 context);
  if (record.status() == v1::RECORD_STATUS_UNSPECIFIED) {
    CIR_FUZZ_CHECK(method == Method::kRegisterBirth &&
                       !static_cast<const v1::RegisterBirthResponse&>(response).created(),
                   context);
    CIR_FUZZ_CHECK(record.version() == 0 && record.date_of_birth().year() == 0, context);
    return;
  }
  CIR_FUZZ_CHECK(record.version() >= 1, context);
}

// A bulk registration's answer: a result for each birth, in order, each a record as
// RegisterBirth would answer or a refusal held to a refused call's rules; and each birth refused
// left its notification and NHS number as they were (`before`), unless another birth of the call
// names the same.
void CheckBulkAnswer(storage::ChildStore& store, const v1::RegisterBirthsRequest& request,
                     const v1::RegisterBirthsResponse& response, const Snapshot& before,
                     const std::string& context) {
  CIR_FUZZ_CHECK(response.results_size() == request.births_size(), context);
  std::map<std::string, int> times_named;
  for (const v1::RegisterBirthRequest& birth : request.births()) {
    ++times_named[absl::StrCat("notification ", Printable(NotificationKeyOf(birth)))];
    for (const std::string& nhs : IdentifiersOf(birth).nhs_numbers) {
      ++times_named[absl::StrCat("NHS number ", nhs)];
    }
  }
  const Snapshot after = Take(store, Method::kRegisterBirths, request, Caller());
  std::map<std::string, std::string> was(before.begin(), before.end());
  std::map<std::string, std::string> is(after.begin(), after.end());
  for (int i = 0; i < response.results_size(); ++i) {
    const v1::RegisterBirthsResult& result = response.results(i);
    const std::string about =
        absl::StrCat("birth ", i, ": ", result.ShortDebugString(), "\n  ", context);
    if (result.has_registered()) {
      v1::RegisterBirthResponse single;
      single.set_created(result.registered().created());
      *single.mutable_record() = result.registered().record();
      if (request.view() == v1::RECORD_VIEW_UNSPECIFIED || request.view() == v1::RECORD_VIEW_FULL) {
        CheckRecord(Method::kRegisterBirth, single, single.record(), about);
      } else {  // a narrower view: the identifiers, without status or version
        CIR_FUZZ_CHECK(identifiers::ParseChildId(single.record().child_id()).ok(), about);
        CIR_FUZZ_CHECK(single.record().status() == v1::RECORD_STATUS_UNSPECIFIED, about);
      }
      continue;
    }
    CIR_FUZZ_CHECK(result.has_refused(), about);
    const v1::BirthRefusal& refused = result.refused();
    CIR_FUZZ_CHECK(BadInputMayEarn(static_cast<absl::StatusCode>(refused.code())), about);
    CIR_FUZZ_CHECK(refused.reason() != v1::ERROR_REASON_UNSPECIFIED, about);
    CIR_FUZZ_CHECK(!refused.message().empty(), about);
    const NamedIdentifiers named = IdentifiersOf(request.births(i));
    for (const std::string& identifier : named.texts) {
      CIR_FUZZ_CHECK(!absl::StrContains(refused.message(), identifier), about);
      for (const auto& [key, value] : refused.metadata()) {
        CIR_FUZZ_CHECK(!absl::StrContains(value, identifier), about);
      }
    }
    std::vector<std::string> own = {
        absl::StrCat("notification ", Printable(NotificationKeyOf(request.births(i))))};
    for (const std::string& nhs : named.nhs_numbers)
      own.push_back(absl::StrCat("NHS number ", nhs));
    for (const std::string& part : own) {
      if (times_named[part] != 1) continue;
      CIR_FUZZ_CHECK(was[part] == is[part],
                     absl::StrCat("a refused birth changed its ", part, ": ", about));
    }
  }
}

void CheckAnswer(Method method, const Message& request, const Message& response,
                 const std::string& context) {
  const std::string about = absl::StrCat(context, "\n  answer: ", response.ShortDebugString());
  // Every ChildRecord at the top of the answer (record, survivor).
  const Reflection* reflection = response.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(response, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->message_type() == v1::ChildRecord::descriptor() && !field->is_repeated()) {
      CheckRecord(method, response,
                  static_cast<const v1::ChildRecord&>(reflection->GetMessage(response, field)),
                  about);
    }
  }
  if (method == Method::kResolve) {
    CIR_FUZZ_CHECK(static_cast<const v1::ResolveResponse&>(response).has_record(), about);
  }
  if (method == Method::kBatchResolve) {
    const auto& batch = static_cast<const v1::BatchResolveResponse&>(response);
    const auto& asked = static_cast<const v1::BatchResolveRequest&>(request);
    CIR_FUZZ_CHECK(batch.results_size() == asked.identifiers_size(), about);
    for (int i = 0; i < batch.results_size(); ++i) {
      const v1::BatchResolveResult& result = batch.results(i);
      if (result.outcome() == v1::BatchResolveResult::OUTCOME_FOUND) {
        CIR_FUZZ_CHECK(!result.record().child_id().empty(), about);
      } else if (result.outcome() == v1::BatchResolveResult::OUTCOME_INVALID) {
        CIR_FUZZ_CHECK(!result.error().empty(), about);
      } else {
        CIR_FUZZ_CHECK(result.outcome() == v1::BatchResolveResult::OUTCOME_NOT_FOUND, about);
      }
    }
  }
}

void TestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const auto method = static_cast<Method>(data[0] % kMethodCount);
  const Caller caller = CallerOf(data[1]);
  const MethodInfo& info = InfoOf(method);
  std::unique_ptr<Message> request(info.prototype->New());
  if (!request->ParseFromArray(data + 2, static_cast<int>(size - 2))) return;
  NameSeededChildren(*request);

  storage::ChildStore& store = *SharedStore().store;
  CatchUpWithEventLog(store);
  const std::string context =
      absl::StrCat(info.name, " by agency \"", caller.actor.agency_id, "\"",
                   caller.production ? " (production)" : "", ": ", request->ShortDebugString());
  const NamedIdentifiers named = IdentifiersOf(*request);
  const Snapshot before = Take(store, method, *request, caller);

  const Answer answer = Call(method, *request, caller);
  if (answer.status.ok()) {
    CIR_FUZZ_CHECK(answer.response != nullptr, context);
    CheckAnswer(method, *request, *answer.response, context);
    if (method == Method::kRegisterBirths) {
      CheckBulkAnswer(store, static_cast<const v1::RegisterBirthsRequest&>(*request),
                      static_cast<const v1::RegisterBirthsResponse&>(*answer.response), before,
                      context);
    }
    CatchUpWithEventLog(store);
    return;
  }
  CheckRefusal(answer.status, named, context);
  CIR_FUZZ_CHECK(CatchUpWithEventLog(store) == 0,
                 absl::StrCat("a refusal appended to the event log: ", answer.status.ToString(),
                              "\n  ", context));
  const Snapshot after = Take(store, method, *request, caller);
  CIR_FUZZ_CHECK(before.size() == after.size(), context);
  for (size_t i = 0; i < before.size(); ++i) {
    CIR_FUZZ_CHECK(before[i] == after[i],
                   absl::StrCat("a refusal changed the ", before[i].first, ": ",
                                answer.status.ToString(), "\n  ", context));
  }
}

}  // namespace
}  // namespace cir::fuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  cir::fuzz::SeededChildren();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cir::fuzz::TestOneInput(data, size);
  return 0;
}
