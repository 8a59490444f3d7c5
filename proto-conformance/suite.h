#pragma once
// webpush-conformance: the scenario model. One Scenario per requirement row of
// docs/checklist.md (IDs such as R8030-5.2-b) that a black box can check, against any push
// service (RFC 8030, RFC 8292, RFC 8291, RFC 8188, draft-ietf-webpush-encryption-04 and
// draft-ietf-webpush-vapid-01). A scenario runs requests through a Context (context.h) and
// returns an Outcome: pass, fail (with what was sent and what came back), not applicable, or
// skipped with the reason (most often: needs the optional control interface, control.h).
//
// Features: every scenario names the feature it exercises ("core", "delivery", "monitor",
// "urgency-filter", "receipts", "sets", "control"). A run may claim only some features
// (--claim); a failing MUST of an unclaimed feature is still reported as a failure but does not
// change the exit status. That is how a service states "not implemented yet" honestly.
// Single-threaded: scenarios run one after another.

#include <functional>
#include <string>
#include <vector>

namespace conformance {

class Context;

// RFC 2119 keyword of the row (column "Level" of docs/checklist.md).
enum class Level { must, must_not, should, may, impl, info };
std::string_view to_string(Level level);
// MUST and MUST NOT rows decide the exit status.
inline bool is_mandatory(Level level) { return level == Level::must || level == Level::must_not; }

enum class Verdict { pass, fail, not_applicable, skipped };
std::string_view to_string(Verdict verdict);

// One request and its answer, already rendered for the report (secrets shortened).
struct Exchange {
    std::string sent;
    std::string received;
};

struct Outcome {
    Verdict verdict = Verdict::pass;
    std::string reason;              // why (fail, n/a, skipped) or a note (pass)
    std::vector<Exchange> evidence;  // filled by the runner from the Context transcript
};

inline Outcome pass(std::string note = {}) { return {Verdict::pass, std::move(note), {}}; }
inline Outcome fail(std::string why) { return {Verdict::fail, std::move(why), {}}; }
inline Outcome not_applicable(std::string why) {
    return {Verdict::not_applicable, std::move(why), {}};
}
inline Outcome skipped(std::string why) { return {Verdict::skipped, std::move(why), {}}; }

struct Scenario {
    std::string id;  // checklist ID, e.g. "R8030-5.2-b"
    Level level;
    std::string feature;  // see above
    std::string title;    // the requirement in a few words
    std::function<Outcome(Context&)> run;
};

using Registry = std::vector<Scenario>;

// One registration function per scenario file (grouped by RFC section).
void register_8030_subscribe(Registry& r);      // RFC 8030 §3, §4, §4.1
void register_8030_push(Registry& r);           // RFC 8030 §5, §5.1, §5.2
void register_8030_urgency_topic(Registry& r);  // RFC 8030 §5.3, §5.4
void register_8030_receive(Registry& r);        // RFC 8030 §6, §6.1, §6.2, §6.3
void register_8030_operations(Registry& r);     // RFC 8030 §7, §8, §9
void register_8292(Registry& r);                // RFC 8292
void register_vapid01(Registry& r);             // draft-ietf-webpush-vapid-01
void register_encryption(Registry& r);          // RFC 8291, RFC 8188, draft-...-encryption-04

Registry all_scenarios();

}  // namespace conformance
