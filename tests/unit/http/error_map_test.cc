#include "pushsvc/http/error_map.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "pushsvc/obs/metrics.h"

namespace pushsvc::http {
namespace {

TEST(ErrorMap, EveryErrorHasAStableJsonBodyAndACounter) {
    for (int e = static_cast<int>(errc::bad_request); e <= static_cast<int>(errc::internal); ++e) {
        auto code = static_cast<errc>(e);
        // Looked up by name and label, as a scrape sees it, not through the catalog the
        // code under test uses.
        const obs::Counter* counter = obs::registry().find_counter(
            "pushsvc_errors_total", {{"reason", std::string(errc_name(code))}});
        ASSERT_NE(counter, nullptr) << errc_name(code);
        auto before = counter->value();
        Response r = error_response(code);
        EXPECT_EQ(counter->value(), before + 1) << errc_name(code);
        EXPECT_GE(r.status, 400);
        auto body = boost::json::parse(r.body).as_object();
        EXPECT_EQ(body.at("code").as_int64(), r.status);
        EXPECT_TRUE(body.contains("errno"));
        EXPECT_TRUE(body.at("error").is_string());
        EXPECT_FALSE(body.at("message").as_string().empty());
        EXPECT_EQ(body.at("reason").as_string(), errc_name(code));
        EXPECT_EQ(r.headers.get("content-type"), "application/json");
    }
}

TEST(ErrorMap, Every401CarriesTheBareVapidChallenge_R8292_3_b) {
    Response r = error_response(errc::vapid_missing);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.headers.get("www-authenticate"), "vapid");
    EXPECT_EQ(error_response(errc::vapid_invalid).status, 403);
    EXPECT_EQ(error_response(errc::vapid_key_mismatch).status, 403);
}

TEST(ErrorMap, GoneSubscriptionIs410InCompatAnd404InStrict_R8030_7_3_d) {
    EXPECT_EQ(error_response(errc::subscription_gone, config::Profile::compat).status, 410);
    EXPECT_EQ(error_response(errc::subscription_gone, config::Profile::strict).status, 404);
    EXPECT_EQ(error_response(errc::token_invalid).status, 404);
}

TEST(ErrorMap, UsesAutopushErrnos) {
    EXPECT_EQ(error_info(errc::ttl_missing, config::Profile::compat).errno_value, 111);
    EXPECT_EQ(error_info(errc::topic_invalid, config::Profile::compat).errno_value, 113);
    EXPECT_EQ(error_info(errc::payload_too_large, config::Profile::compat).errno_value, 104);
    EXPECT_EQ(error_info(errc::token_invalid, config::Profile::compat).errno_value, 102);
    EXPECT_EQ(error_info(errc::subscription_gone, config::Profile::compat).errno_value, 106);
}

TEST(ErrorMap, Every429And503CarriesRetryAfterInSecondsTheCallerKnowsBest_R8030_8_4_b) {
    // The one place 429 + Retry-After is built: a rate limit passes its refill time, the
    // queue cap and 503s get their fixed hints.
    Response limited = error_response(errc::rate_limited, config::Profile::compat, {}, 17);
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.headers.get("retry-after"), "17");
    EXPECT_EQ(limited.headers.count("retry-after"), 1u);
    EXPECT_EQ(error_response(errc::too_many_requests).headers.get("retry-after"), "60");
    EXPECT_EQ(error_response(errc::unavailable).headers.get("retry-after"), "120");
    EXPECT_EQ(error_response(errc::unavailable, config::Profile::compat, {}, 5)
                  .headers.get("retry-after"),
              "5");
    EXPECT_FALSE(error_response(errc::bad_request, config::Profile::compat, {}, 5)
                     .headers.get("retry-after"));  // only where waiting helps
}

}  // namespace
}  // namespace pushsvc::http
