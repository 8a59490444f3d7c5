#include "pushsvc/obs/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <sstream>

namespace pushsvc::obs {
namespace {

// Capability URLs (endpoint tokens, subscription, set, receipt and message ids) are secrets:
// whoever has one can push to, read or delete what it names. The access log keeps the route.
TEST(RedactTarget, KeepsRoutesHidesTokensAndQueries) {
    EXPECT_EQ(redact_target("/push/gAAAAABnZ2-4kEYm1xx_Qq9Hh7Vd0B9xw"), "/push/*");
    EXPECT_EQ(redact_target("/sub/3q2-7wAbCdEfGhIjKlMnOp"), "/sub/*");
    EXPECT_EQ(redact_target("/m/Yx0aaaaaaaaaaaaaaaaaaa"), "/m/*");
    EXPECT_EQ(redact_target("/subscribe"), "/subscribe");
    EXPECT_EQ(redact_target("/"), "/");
    EXPECT_EQ(redact_target("/metrics"), "/metrics");
    EXPECT_EQ(redact_target("/_testdouble/subscriptions/Xy9AbCdEfGhIjKlMnOpQr/messages"),
              "/_testdouble/subscriptions/*/messages");
    EXPECT_EQ(redact_target("/push/gAAAAB3xQ?auth=secret"), "/push/*?*");
    EXPECT_EQ(redact_target("/metrics/"), "/metrics/");
    // A lower-case segment longer than any route name is hidden too (random ids are >= 22).
    EXPECT_EQ(redact_target("/push/abcdefghijklmnopqrstuvwxyz"), "/push/*");
    EXPECT_EQ(redact_target("/PUSH/x"), "/*/x");
    EXPECT_EQ(redact_target("http://host/push/tok"), "*");
    EXPECT_EQ(redact_target("*"), "*");
    EXPECT_EQ(redact_target(""), "/");
}

TEST(JsonQuote, EscapesControlsAndReplacesInvalidUtf8) {
    EXPECT_EQ(json_quote("plain"), "\"plain\"");
    EXPECT_EQ(json_quote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
    EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");        // valid UTF-8 kept
    EXPECT_EQ(json_quote("bad\xff\xc3"), "\"bad\\ufffd\\ufffd\"");  // invalid bytes replaced
    EXPECT_EQ(json_quote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");        // overlong encoding
}

// log.format = "json": the connection prefix the code puts on its lines becomes fields.
TEST(JsonFormatter, OneObjectPerLineWithTheConnectionAsAField) {
    std::ostringstream out;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
    spdlog::logger logger("test", sink);
    logger.set_formatter(json_formatter());
    logger.info("c42/s3 handler threw: \"boom\"");
    logger.warn("c7: websocket write queue full, closing");
    logger.error("no connection here");
    const std::string text = out.str();
    const auto first = text.substr(0, text.find('\n'));
    EXPECT_NE(first.find("\"level\":\"info\",\"conn\":42,\"stream\":\"s3\","
                         "\"msg\":\"handler threw: \\\"boom\\\"\"}"),
              std::string::npos)
        << text;
    EXPECT_EQ(first.rfind("{\"time\":\"", 0), 0u) << first;
    EXPECT_NE(text.find("\"level\":\"warning\",\"conn\":7,\"msg\":\"websocket write queue full, "
                        "closing\"}\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("\"level\":\"error\",\"msg\":\"no connection here\"}\n"), std::string::npos)
        << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

}  // namespace
}  // namespace pushsvc::obs
