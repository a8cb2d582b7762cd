// The single translation unit holding the compiled parts of Asio, Asio-SSL
// and Beast (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION,
// stack.md §1.2): every other TU only instantiates templates.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
