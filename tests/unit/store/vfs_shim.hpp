#pragma once
// What the store tests' SQLite VFSs (crash_vfs.hpp, fault_vfs.hpp) share: registration as the
// default VFS for the object's lifetime, and the table of file methods. A VFS derives from
// VfsShim<Self>, fills vfs_ in its constructor, calls install(), and defines the file methods
// as static members (close, read, write, truncate, sync, file_size, lock, unlock,
// check_reserved, file_control, sector_size, device_characteristics, shm_map, shm_lock,
// shm_barrier, shm_unmap), befriending VfsShim<Self> when they are private.
#include <sqlite3.h>

namespace fieldgate::test {

template <class Vfs>
class VfsShim {
public:
    VfsShim(const VfsShim&) = delete;
    VfsShim& operator=(const VfsShim&) = delete;

protected:
    VfsShim() : real_(sqlite3_vfs_find(nullptr)) {}
    ~VfsShim() {
        if (installed_) sqlite3_vfs_unregister(&vfs_);
    }

    /// Registers vfs_ as the default VFS, until the destructor.
    void install() {
        sqlite3_vfs_register(&vfs_, 1);
        installed_ = true;
    }

    /// The file methods of Vfs, version 2 (with shared memory, without memory mapping).
    static const sqlite3_io_methods* methods() {
        static const sqlite3_io_methods m = {2,
                                             &Vfs::close,
                                             &Vfs::read,
                                             &Vfs::write,
                                             &Vfs::truncate,
                                             &Vfs::sync,
                                             &Vfs::file_size,
                                             &Vfs::lock,
                                             &Vfs::unlock,
                                             &Vfs::check_reserved,
                                             &Vfs::file_control,
                                             &Vfs::sector_size,
                                             &Vfs::device_characteristics,
                                             &Vfs::shm_map,
                                             &Vfs::shm_lock,
                                             &Vfs::shm_barrier,
                                             &Vfs::shm_unmap,
                                             nullptr,
                                             nullptr};
        return &m;
    }

    sqlite3_vfs vfs_{};
    sqlite3_vfs* real_;  ///< the default VFS before this one was registered

private:
    bool installed_ = false;
};

}  // namespace fieldgate::test
