// A reload's new [store] settings, applied to the open database.
#include <algorithm>

#include "fieldgate/store/sqlite_store.hpp"
#include "sqlite_support.hpp"

namespace fieldgate::store {

using sqlite_support::exec;

void SqliteStore::reconfigure(const config::Store& cfg) {
    config::Store next = cfg;
    next.path = cfg_.path;
    const config::Store was = cfg_;
    cfg_ = next;       // the bounds apply even while no file is open (memory mode)
    if (!db_) return;  // the pragmas below are set when the file is opened again, from cfg_
    if (next.durability != was.durability)
        exec(db_,
             next.durability == config::Durability::Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    if (next.max_bytes != was.max_bytes) {
        // As at open: the WAL is checkpointed and trimmed at a sixteenth of max_bytes.
        const std::uint64_t wal_pages = std::clamp<std::uint64_t>(next.max_bytes / 16 / 4096, 16, 1000);
        exec(db_, "PRAGMA wal_autocheckpoint=" + std::to_string(wal_pages));
        exec(db_, "PRAGMA journal_size_limit=" + std::to_string(wal_pages * 4096));
    }
}

}  // namespace fieldgate::store
