// pushctl: a command-line Web Push client (sender and user-agent sides) built on
// tools/client only. Errors are one line on stderr and a non-zero exit status.

#include <iostream>

#include "tools/pushctl/common.h"

int main(int argc, char** argv) {
    CLI::App app{
        "pushctl: Web Push client (RFC 8030 / 8291 / 8292) for pushsvc and any push "
        "service"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Help for every command");
    pushctl::setup_vapid_keygen(app);
    pushctl::setup_send(app);
    pushctl::setup_subscribe(app);
    pushctl::setup_decrypt(app);
    pushctl::setup_ua(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        std::cerr << "pushctl: " << e.what() << " (see --help)\n";
        return 1;
    } catch (const pushctl::CommandError& e) {
        std::cerr << "pushctl: " << e.what() << "\n";
        return e.exit_code;
    } catch (const std::exception& e) {
        std::cerr << "pushctl: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
