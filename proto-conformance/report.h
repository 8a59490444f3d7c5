#pragma once
// The conformance statement: one row per scenario (ID, level, verdict, reason) and, for each
// failure, what was sent and what came back. Console table, JSON (--report) and Markdown
// (--markdown). Pure formatting.

#include <string>
#include <vector>

#include "proto-conformance/suite.h"

namespace conformance {

struct ResultRow {
    std::string id, level, feature, title;
    Outcome outcome;
    bool claimed = true;  // feature claimed by the run (--claim)
    bool counts() const { return claimed && outcome.verdict == Verdict::fail && mandatory; }
    bool mandatory = false;
};

struct RunInfo {
    std::string target, profile, ua, control, claims;
};

std::string render_console(const RunInfo& info, const std::vector<ResultRow>& rows);
std::string render_json(const RunInfo& info, const std::vector<ResultRow>& rows);
std::string render_markdown(const RunInfo& info, const std::vector<ResultRow>& rows);

}  // namespace conformance
