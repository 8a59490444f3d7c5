#pragma once
// RFC 8030 subscription-set scenarios (s8030_sets.cc) and the give-up scenario: §6.1 monitoring a
// set, §7.3.1 expiring and deleting sets and members. Checklist rows R8030-6.1-b..e,
// R8030-7.3.1-a..d.

#include "proto-conformance/suite.h"

namespace conformance {

Outcome set_pushes_live(Context& ctx);          // R8030-6.1-b
Outcome set_push_links(Context& ctx);           // R8030-6.1-c
Outcome set_urgency(Context& ctx);              // R8030-6.1-d
Outcome set_wait_zero(Context& ctx);            // R8030-6.1-e
Outcome set_expire_members(Context& ctx);       // R8030-7.3.1-a
Outcome set_expire_open_monitor(Context& ctx);  // R8030-7.3.1-b
Outcome set_delete(Context& ctx);               // R8030-7.3.1-c
Outcome set_member_removed(Context& ctx);       // R8030-7.3.1-d

// s8030_receive.cc: the service gives up a receipt-requested message (control "give-up");
// R8030-6.2-d, 6.3-c (after an unacknowledged delivery), 7.2-f (undelivered).
Outcome give_up_receipt(Context& ctx, bool delivered_first, bool check_shape);

}  // namespace conformance
