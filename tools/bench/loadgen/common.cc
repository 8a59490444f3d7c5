#include "tools/bench/loadgen/common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace loadgen {

Args::Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--", 0) != 0) throw std::runtime_error("unexpected argument " + a);
        a = a.substr(2);
        if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
            values_[a] = argv[++i];
        } else {
            values_[a] = "";
        }
    }
}

std::string Args::str(const std::string& name, const std::string& def) const {
    auto it = values_.find(name);
    return it == values_.end() ? def : it->second;
}

long long Args::num(const std::string& name, long long def) const {
    auto it = values_.find(name);
    return it == values_.end() ? def : std::stoll(it->second);
}

double Args::real(const std::string& name, double def) const {
    auto it = values_.find(name);
    return it == values_.end() ? def : std::stod(it->second);
}

std::vector<long long> Args::list(const std::string& name) const {
    std::vector<long long> out;
    std::stringstream ss(str(name));
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(std::stoll(item));
    return out;
}

HostPort parse_origin(const std::string& url) {
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto end = url.find('/', start);
    std::string hp = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
    HostPort out;
    auto colon = hp.rfind(':');
    if (colon == std::string::npos) {
        out.host = hp;
        out.port = 80;
    } else {
        out.host = hp.substr(0, colon);
        out.port = static_cast<std::uint16_t>(std::stoi(hp.substr(colon + 1)));
    }
    return out;
}

std::string origin_of(const std::string& url) {
    auto start = url.find("://");
    auto end = url.find('/', start == std::string::npos ? 0 : start + 3);
    return end == std::string::npos ? url : url.substr(0, end);
}

std::string path_of(const std::string& url) {
    auto start = url.find("://");
    auto end = url.find('/', start == std::string::npos ? 0 : start + 3);
    return end == std::string::npos ? "/" : url.substr(end);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << data;
}

std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> out;
    std::stringstream ss(read_file(path));
    for (std::string line; std::getline(ss, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

long rss_kib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

double percentile(std::vector<double>& sample, double p) {
    if (sample.empty()) return 0;
    std::sort(sample.begin(), sample.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * sample.size()));
    return sample[std::min(sample.size() - 1, rank == 0 ? 0 : rank - 1)];
}

JsonLine::JsonLine(const std::string& kind) : text_("{\"bench\":\"" + kind + "\"") {}

JsonLine& JsonLine::add(const std::string& key, double value) {
    char buf[64];
    if (value == std::floor(value) && std::fabs(value) < 1e15)
        std::snprintf(buf, sizeof buf, "%.0f", value);
    else
        std::snprintf(buf, sizeof buf, "%.3f", value);
    text_ += ",\"" + key + "\":" + buf;
    return *this;
}

JsonLine& JsonLine::add(const std::string& key, const std::string& value) {
    text_ += ",\"" + key + "\":\"" + value + "\"";
    return *this;
}

void JsonLine::print() {
    std::printf("%s}\n", text_.c_str());
    std::fflush(stdout);
}

}  // namespace loadgen
