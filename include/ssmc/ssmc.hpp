// Everything of the ssmc library.
#pragma once

#include "ssmc/blocking.hpp"
#include "ssmc/client.hpp"
#include "ssmc/error.hpp"
#include "ssmc/version.hpp"
