#include "proto-conformance/suite.h"

namespace conformance {

Registry all_scenarios() {
    Registry r;
    register_8030_subscribe(r);
    register_8030_push(r);
    register_8030_urgency_topic(r);
    register_8030_receive(r);
    register_8030_operations(r);
    register_8292(r);
    register_vapid01(r);
    register_encryption(r);
    return r;
}

}  // namespace conformance
