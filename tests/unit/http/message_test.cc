#include "pushsvc/http/message.h"

#include <gtest/gtest.h>

namespace pushsvc::http {
namespace {

TEST(Fields, GetJoinsRepeatedFieldsAndTakeMovesASingleOneOut) {  // RFC 9110 §5.3
    Fields f;
    f.add("authorization", std::string(300, 'a'));
    f.add("link", "<a>");
    f.add("link", "<b>");
    EXPECT_EQ(f.get("link"), "<a>, <b>");
    EXPECT_EQ(f.get("absent"), std::nullopt);

    // A single field: its value, moved out (the request is being consumed).
    EXPECT_EQ(f.take("authorization"), std::string(300, 'a'));
    EXPECT_EQ(f.get("authorization"), "") << "the field stays, emptied";
    // Repeated fields are joined as get() joins them, and left in place.
    EXPECT_EQ(f.take("link"), "<a>, <b>");
    EXPECT_EQ(f.get("link"), "<a>, <b>");
    EXPECT_EQ(f.take("absent"), std::nullopt);
    EXPECT_EQ(f.count("link"), 2u);
}

}  // namespace
}  // namespace pushsvc::http
