#pragma once
// The records file (JSON lines, appended once per request) and the --stats file.
#include <string>

namespace fieldgate::cloudsim {

/// An O_APPEND file written with one write(2) per request, so a reader following it sees whole
/// requests and the sim pays one syscall per batch, not one per record. Non-copyable.
class RecordsFile {
public:
    /// Opens `path`, creating missing parent directories; truncates it unless `append`.
    /// Throws std::runtime_error with the path and errno text on failure.
    RecordsFile(const std::string& path, bool append);
    ~RecordsFile();
    RecordsFile(const RecordsFile&) = delete;
    RecordsFile& operator=(const RecordsFile&) = delete;

    /// Appends `text`. Returns "" on success or the error (e.g. "No space left on device").
    std::string append(const std::string& text);
    const std::string& path() const { return path_; }

private:
    std::string path_;
    int fd_ = -1;
};

/// Replaces `path` with `text` through a temporary file and rename(2), so a reader never sees a
/// half-written file. Returns "" or the error.
std::string write_file_atomically(const std::string& path, const std::string& text);

}  // namespace fieldgate::cloudsim
