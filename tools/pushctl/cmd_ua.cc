// pushctl ua: placeholder until the WebSocket client lands.
#include "tools/pushctl/common.h"

namespace pushctl {
void setup_ua(CLI::App&) {}
}  // namespace pushctl
