#pragma once
// Small helpers shared by the pushsvc-loadgen commands: flag parsing, percentiles, files,
// process RSS. Nothing here talks to the network.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace loadgen {

using Clock = std::chrono::steady_clock;

// "--name value" pairs and bare "--flag"s after the command word.
class Args {
  public:
    Args(int argc, char** argv, int first);
    std::string str(const std::string& name, const std::string& def = "") const;
    long long num(const std::string& name, long long def) const;
    double real(const std::string& name, double def) const;
    bool flag(const std::string& name) const { return values_.count(name) != 0; }
    std::vector<long long> list(const std::string& name) const;  // "1,2,3"

  private:
    std::map<std::string, std::string> values_;
};

struct HostPort {
    std::string host;
    std::uint16_t port = 0;
};
// "http://127.0.0.1:8080/..." or "ws://..." -> host, port (default 80).
HostPort parse_origin(const std::string& url);
std::string origin_of(const std::string& url);  // scheme://host:port
std::string path_of(const std::string& url);    // "/..." part

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data);
std::vector<std::string> read_lines(const std::string& path);

// Resident set size of a process in KiB (VmRSS of /proc/<pid>/status), -1 when unknown.
long rss_kib(int pid);

// Percentile (0..100) of a sample, sorting it in place; 0 for an empty sample.
double percentile(std::vector<double>& sample, double p);

// One JSON object per line on stdout, so scripts can grep / jq the results.
class JsonLine {
  public:
    explicit JsonLine(const std::string& kind);
    JsonLine& add(const std::string& key, double value);
    JsonLine& add(const std::string& key, const std::string& value);
    void print();

  private:
    std::string text_;
};

}  // namespace loadgen
