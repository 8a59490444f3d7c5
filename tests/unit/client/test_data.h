#pragma once
// Loads RFC vectors from tests/data (PUSHSVC_SOURCE_DIR is set by pushsvc_test()).

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "tools/client/base64url.h"

namespace webpush_client::test {

inline boost::json::object load_vector(const std::string& name) {
    std::ifstream in(std::string(PUSHSVC_SOURCE_DIR) + "/tests/data/" + name);
    EXPECT_TRUE(in.good()) << "missing tests/data/" << name;
    std::stringstream ss;
    ss << in.rdbuf();
    return boost::json::parse(ss.str()).as_object();
}

inline std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

inline Bytes b64(const boost::json::value& v) { return base64url_decode(v.as_string()).value(); }
inline Bytes b64(std::string_view v) { return base64url_decode(v).value(); }

}  // namespace webpush_client::test
