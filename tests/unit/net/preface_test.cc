#include "pushsvc/net/preface.h"

#include <gtest/gtest.h>

namespace pushsvc::net {
namespace {

TEST(PrefaceClassifier, WaitsWhileEveryByteMatches) {
    EXPECT_EQ(classify_preface(""), PrefaceMatch::need_more);
    EXPECT_EQ(classify_preface("PRI * HTTP/2.0\r\n"), PrefaceMatch::need_more);
}

TEST(PrefaceClassifier, RecognisesTheFullPrefaceEvenWithFramesBehindIt) {
    EXPECT_EQ(classify_preface(kHttp2Preface), PrefaceMatch::http2);
    EXPECT_EQ(classify_preface(std::string(kHttp2Preface) + "\x00\x00\x00\x04"),
              PrefaceMatch::http2);
}

TEST(PrefaceClassifier, TreatsTheFirstDifferingByteAsHttp1) {
    EXPECT_EQ(classify_preface("G"), PrefaceMatch::http1);
    EXPECT_EQ(classify_preface("POST / HTTP/1.1\r\n"), PrefaceMatch::http1);
    EXPECT_EQ(classify_preface("PRI * HTTP/1.1"), PrefaceMatch::http1);
}

}  // namespace
}  // namespace pushsvc::net
