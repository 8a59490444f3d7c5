#include "pushsvc/http1/convert.h"

#include <gtest/gtest.h>

namespace pushsvc::http1 {
namespace {

namespace bhttp = boost::beast::http;

TEST(Http1Convert, LowerCasesFieldNamesAndTakesTheAuthorityFromHost) {
    BeastRequest req{bhttp::verb::post, "/wpush/v2/x", 11};
    req.set("Host", "push.example:8443");
    req.insert("TTL", "60");
    req.insert("Content-Encoding", "aes128gcm");
    req.body() = "payload";
    const http::Request r = to_request(std::move(req));
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/wpush/v2/x");
    EXPECT_EQ(r.authority, "push.example:8443");
    EXPECT_EQ(r.headers.get("ttl"), "60");
    EXPECT_EQ(r.headers.get("content-encoding"), "aes128gcm");
    EXPECT_EQ(r.body, "payload");
    EXPECT_FALSE(r.can_push);
    EXPECT_EQ(r.pusher, nullptr);
}

TEST(Http1Convert, AddsDateServerAndContentLengthAndDropsHopByHopFields) {
    http::Response res;
    res.status = 201;
    res.headers.add("location", "/m/1");
    res.headers.add("connection", "upgrade");
    res.headers.add("transfer-encoding", "chunked");
    res.body = "abc";
    const BeastResponse out = to_beast(std::move(res), 11, true, false);
    EXPECT_EQ(out.result_int(), 201u);
    EXPECT_EQ(out[bhttp::field::location], "/m/1");
    EXPECT_EQ(out[bhttp::field::content_length], "3");
    EXPECT_EQ(out[bhttp::field::server], "pushsvc");
    EXPECT_FALSE(out[bhttp::field::date].empty());
    EXPECT_EQ(out.count(bhttp::field::transfer_encoding), 0u);
    EXPECT_TRUE(out.keep_alive());
    EXPECT_EQ(out.body(), "abc");
}

TEST(Http1Convert, AnnouncesButOmitsTheBodyForHead) {
    http::Response res;
    res.body = "twelve bytes";
    const BeastResponse out = to_beast(std::move(res), 11, false, true);
    EXPECT_EQ(out[bhttp::field::content_length], "12");
    EXPECT_TRUE(out.body().empty());
    EXPECT_FALSE(out.keep_alive());
}

TEST(Http1Convert, SendsNoContentLengthOn204) {
    http::Response res;
    res.status = 204;
    const BeastResponse out = to_beast(std::move(res), 11, true, false);
    EXPECT_EQ(out.count(bhttp::field::content_length), 0u);
}

}  // namespace
}  // namespace pushsvc::http1
