#include "records_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace fieldgate::cloudsim {
namespace {

std::string write_all(int fd, const std::string& text) {
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::strerror(errno);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    return {};
}

}  // namespace

RecordsFile::RecordsFile(const std::string& path, bool append) : path_(path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(parent, ec);
        if (ec) throw std::runtime_error("cannot create " + parent.string() + ": " + ec.message());
    }
    const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (append ? 0 : O_TRUNC);
    fd_ = ::open(path.c_str(), flags, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
}

RecordsFile::~RecordsFile() {
    if (fd_ >= 0) ::close(fd_);
}

std::string RecordsFile::append(const std::string& text) {
    if (text.empty()) return {};
    return write_all(fd_, text);
}

std::string write_file_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot open " + tmp + ": " + std::strerror(errno);
    std::string error = write_all(fd, text);
    if (::close(fd) != 0 && error.empty()) error = std::strerror(errno);
    if (error.empty() && ::rename(tmp.c_str(), path.c_str()) != 0) error = std::strerror(errno);
    if (!error.empty()) {
        ::unlink(tmp.c_str());
        return "cannot write " + path + ": " + error;
    }
    return {};
}

}  // namespace fieldgate::cloudsim
