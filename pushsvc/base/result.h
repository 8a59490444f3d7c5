#pragma once
// result<T>: a value or an error_code (boost::system::result). Request-path code returns these
// instead of throwing.

#include <boost/system/result.hpp>

#include "pushsvc/base/errc.h"

namespace pushsvc {

template <class T>
using result = boost::system::result<T, boost::system::error_code>;

}  // namespace pushsvc
