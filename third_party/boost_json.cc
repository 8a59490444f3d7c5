// Debian 12 ships Boost.JSON and Boost.URL header-only (no libboost_json/url); this one
// translation unit compiles their sources for every target that links Boost::json/Boost::url.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
