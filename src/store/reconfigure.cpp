// A reload's new [store] settings, applied to the open database.
#include "fieldgate/store/sqlite_store.hpp"
#include "sqlite_support.hpp"

namespace fieldgate::store {

void SqliteStore::reconfigure(const config::Store& cfg) {
    config::Store next = cfg;
    next.path = cfg_.path;
    const config::Store was = cfg_;
    cfg_ = next;       // the bounds apply even while no file is open (memory mode)
    if (!db_) return;  // the pragmas below are set when the file is opened again, from cfg_
    if (next.durability != was.durability) sqlite_support::apply_durability(db_, next.durability);
    if (next.max_bytes != was.max_bytes) sqlite_support::apply_wal_limit(db_, next.max_bytes);
}

}  // namespace fieldgate::store
