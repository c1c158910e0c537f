#pragma once
// A fault-injecting SQLite VFS for the store's unit tests: a shim over the default VFS that
// passes everything through until told to refuse writes (as a full disk or a failing SD card
// does: xWrite, xTruncate and xSync return an error) or reads. Registered as the default VFS
// while a FaultVfs object lives.
#include <sqlite3.h>

#include <cstring>

#include "vfs_shim.hpp"

namespace fieldgate::test {

class FaultVfs : public VfsShim<FaultVfs> {
public:
    /// Write calls fail with this code while non-zero (SQLITE_FULL, SQLITE_IOERR_WRITE, ...).
    static inline int fail_writes = 0;
    /// Read calls fail while true (a damaged card).
    static inline bool fail_reads = false;

    FaultVfs() {
        vfs_ = *real_;
        vfs_.zName = "fault";
        vfs_.szOsFile = static_cast<int>(sizeof(File)) + real_->szOsFile;
        vfs_.pAppData = real_;
        vfs_.xOpen = &FaultVfs::open;
        fail_writes = 0;
        fail_reads = false;
        install();
    }
    ~FaultVfs() {
        fail_writes = 0;
        fail_reads = false;
    }

private:
    friend class VfsShim<FaultVfs>;
    struct File {
        sqlite3_file base;
        sqlite3_file* real;
        bool main_db;
    };
    static sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }

    static int close(sqlite3_file* f) {
        sqlite3_file* r = real(f);
        return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
    }
    static int read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
        if (fail_reads) return SQLITE_IOERR_READ;
        return real(f)->pMethods->xRead(real(f), buf, n, off);
    }
    static int write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
        if (fail_writes) return fail_writes;
        return real(f)->pMethods->xWrite(real(f), buf, n, off);
    }
    static int truncate(sqlite3_file* f, sqlite3_int64 size) {
        if (fail_writes) return SQLITE_IOERR_TRUNCATE;
        return real(f)->pMethods->xTruncate(real(f), size);
    }
    static int sync(sqlite3_file* f, int flags) {
        if (fail_writes) return SQLITE_IOERR_FSYNC;
        return real(f)->pMethods->xSync(real(f), flags);
    }
    static int file_size(sqlite3_file* f, sqlite3_int64* size) { return real(f)->pMethods->xFileSize(real(f), size); }
    static int lock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
    static int unlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
    static int check_reserved(sqlite3_file* f, int* out) { return real(f)->pMethods->xCheckReservedLock(real(f), out); }
    static int file_control(sqlite3_file* f, int op, void* arg) {
        return real(f)->pMethods->xFileControl(real(f), op, arg);
    }
    static int sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
    static int device_characteristics(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
    static int shm_map(sqlite3_file* f, int pg, int pgsz, int extend, void volatile** pp) {
        return real(f)->pMethods->xShmMap(real(f), pg, pgsz, extend, pp);
    }
    static int shm_lock(sqlite3_file* f, int offset, int n, int flags) {
        return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
    }
    static void shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
    static int shm_unmap(sqlite3_file* f, int del) { return real(f)->pMethods->xShmUnmap(real(f), del); }

    static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
        auto* real_vfs = static_cast<sqlite3_vfs*>(vfs->pAppData);
        auto* file = reinterpret_cast<File*>(f);
        std::memset(file, 0, sizeof(File));
        file->real = reinterpret_cast<sqlite3_file*>(file + 1);
        file->main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
        const int rc = real_vfs->xOpen(real_vfs, name, file->real, flags, out_flags);
        f->pMethods = file->real->pMethods ? methods() : nullptr;
        return rc;
    }
};

}  // namespace fieldgate::test
