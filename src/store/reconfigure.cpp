// A reload's new [store] settings, applied to the open database.
#include <algorithm>

#include "fieldgate/store/sqlite_store.hpp"

namespace fieldgate::store {

void SqliteStore::reconfigure(const config::Store& cfg) {
    config::Store next = cfg;
    next.path = cfg_.path;
    if (next.durability != cfg_.durability)
        exec(next.durability == config::Durability::Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    if (next.max_bytes != cfg_.max_bytes) {
        // As at open: the WAL is checkpointed and trimmed at a sixteenth of max_bytes.
        const std::uint64_t wal_pages = std::clamp<std::uint64_t>(next.max_bytes / 16 / 4096, 16, 1000);
        exec(("PRAGMA wal_autocheckpoint=" + std::to_string(wal_pages)).c_str());
        exec(("PRAGMA journal_size_limit=" + std::to_string(wal_pages * 4096)).c_str());
    }
    cfg_ = next;
}

}  // namespace fieldgate::store
