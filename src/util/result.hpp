// Result<T>: a value or a std::error_code (boost::system::result).
#pragma once

#include <boost/system/result.hpp>
#include <system_error>

namespace ssmc {

template <class T>
using Result = boost::system::result<T, std::error_code>;

}  // namespace ssmc
