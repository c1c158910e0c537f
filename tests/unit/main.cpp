#include <cstdlib>

#include "fieldgate/util/log.hpp"

#include <CppUTest/CommandLineTestRunner.h>

int main(int argc, char** argv) {
    // The code under test logs what an operator would see; FG_TEST_LOG=1 shows it.
    if (!std::getenv("FG_TEST_LOG")) fieldgate::util::set_log_level(fieldgate::util::Level::Error);
    return CommandLineTestRunner::RunAllTests(argc, argv);
}
