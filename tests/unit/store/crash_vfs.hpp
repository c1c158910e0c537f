#pragma once
// A crash-simulating SQLite VFS for the store's power-cut tests, the way SQLite tests itself
// (its test6.c): files live in memory; every write and truncate since a file's last xSync is
// kept apart as "unsynced". At a chosen write or sync the power is cut: from then on every call
// fails; power_cut() then decides the fate of each unsynced write, in order and sector by
// sector (written, lost, or torn into garbage), drops the shared memory, and the files are what
// a reboot would find. Deletes are immediate. Registered as the default VFS while it lives.
#include <sqlite3.h>

#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "vfs_shim.hpp"

namespace fieldgate::test {

class CrashVfs : public VfsShim<CrashVfs> {
public:
    static constexpr int kSector = 512;

    /// Calls that change a file (write, truncate, sync) left before the power cut; -1: never.
    long countdown = -1;
    bool cut = false;         ///< the power is off: every call fails
    std::uint64_t syncs = 0;  ///< xSync calls that landed
    std::uint64_t torn = 0;   ///< sectors torn into garbage by power cuts
    std::uint64_t lost = 0;   ///< unsynced sectors lost by power cuts
    std::mt19937_64 rng;

    explicit CrashVfs(std::uint64_t seed) : rng(seed) {
        vfs_.iVersion = 2;
        vfs_.szOsFile = static_cast<int>(sizeof(File));
        vfs_.mxPathname = 512;
        vfs_.zName = "crash";
        vfs_.pAppData = this;
        vfs_.xOpen = &CrashVfs::open;
        vfs_.xDelete = &CrashVfs::remove;
        vfs_.xAccess = &CrashVfs::access;
        vfs_.xFullPathname = &CrashVfs::full_pathname;
        vfs_.xDlOpen = nullptr;
        vfs_.xDlError = nullptr;
        vfs_.xDlSym = nullptr;
        vfs_.xDlClose = nullptr;
        vfs_.xRandomness = &CrashVfs::randomness;
        vfs_.xSleep = &CrashVfs::sleep;
        vfs_.xCurrentTime = &CrashVfs::current_time;
        vfs_.xGetLastError = &CrashVfs::last_error;
        vfs_.xCurrentTimeInt64 = &CrashVfs::current_time64;
        install();
    }

    /// The power comes back: unsynced writes are written, lost or torn, sector by sector, in
    /// order; shared memory is gone. Every file is then as a reboot finds it.
    void power_cut() {
        std::uniform_int_distribution<int> fate(0, 9);
        for (auto& [name, f] : files_) {
            std::string disk = f.durable;
            for (const auto& op : f.unsynced) {
                if (op.truncate) {
                    if (fate(rng) < 5) disk.resize(static_cast<std::size_t>(op.offset));
                    continue;
                }
                // Split the write at sector boundaries; each piece has its own fate.
                std::size_t done = 0;
                while (done < op.data.size()) {
                    const auto off = static_cast<std::size_t>(op.offset) + done;
                    const std::size_t n = std::min(op.data.size() - done, kSector - off % kSector);
                    const int f2 = fate(rng);
                    if (f2 < 4) {
                        ++lost;  // never reached the medium
                    } else {
                        if (disk.size() < off + n) disk.resize(off + n, '\0');
                        if (f2 < 5) {
                            ++torn;
                            for (std::size_t i = 0; i < n; ++i)
                                disk[off + i] = static_cast<char>(rng());
                        } else {
                            std::memcpy(&disk[off], op.data.data() + done, n);
                        }
                    }
                    done += n;
                }
            }
            f.durable = disk;
            f.current = disk;
            f.unsynced.clear();
            f.shm.clear();
        }
        cut = false;
        countdown = -1;
    }

    std::size_t file_count() const { return files_.size(); }

private:
    friend class VfsShim<CrashVfs>;
    struct Op {
        bool truncate;
        sqlite3_int64 offset;
        std::string data;
    };
    struct Data {
        std::string durable;  ///< as of the last sync: what a power cut cannot take
        std::string current;  ///< what reads see
        std::vector<Op> unsynced;
        std::vector<std::unique_ptr<char[]>> shm;
    };
    struct File {
        sqlite3_file base;
        CrashVfs* vfs;
        std::string* name;
        bool delete_on_close;
    };

    std::map<std::string, Data> files_;
    std::uint64_t temp_names_ = 0;

    static File* file(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
    static CrashVfs* self(sqlite3_vfs* v) { return static_cast<CrashVfs*>(v->pAppData); }
    Data& data(sqlite3_file* f) { return files_[*file(f)->name]; }

    // A change to a file: false when the power is (now) off.
    bool powered() {
        if (cut) return false;
        if (countdown == 0) {
            cut = true;
            return false;
        }
        if (countdown > 0) --countdown;
        return true;
    }

    static int close(sqlite3_file* f) {
        File* fl = file(f);
        if (fl->delete_on_close) fl->vfs->files_.erase(*fl->name);
        delete fl->name;
        fl->name = nullptr;
        return SQLITE_OK;
    }
    static int read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
        CrashVfs* v = file(f)->vfs;
        if (v->cut) return SQLITE_IOERR_READ;
        const std::string& c = v->data(f).current;
        const auto o = static_cast<std::size_t>(off);
        const std::size_t have = o < c.size() ? std::min(c.size() - o, static_cast<std::size_t>(n)) : 0;
        if (have > 0) std::memcpy(buf, c.data() + o, have);
        if (have < static_cast<std::size_t>(n)) {
            std::memset(static_cast<char*>(buf) + have, 0, static_cast<std::size_t>(n) - have);
            return SQLITE_IOERR_SHORT_READ;
        }
        return SQLITE_OK;
    }
    static int write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
        CrashVfs* v = file(f)->vfs;
        if (!v->powered()) return SQLITE_IOERR_WRITE;
        Data& d = v->data(f);
        const auto o = static_cast<std::size_t>(off);
        if (d.current.size() < o + static_cast<std::size_t>(n)) d.current.resize(o + static_cast<std::size_t>(n), '\0');
        std::memcpy(&d.current[o], buf, static_cast<std::size_t>(n));
        d.unsynced.push_back({false, off, std::string(static_cast<const char*>(buf), static_cast<std::size_t>(n))});
        return SQLITE_OK;
    }
    static int truncate(sqlite3_file* f, sqlite3_int64 size) {
        CrashVfs* v = file(f)->vfs;
        if (!v->powered()) return SQLITE_IOERR_TRUNCATE;
        Data& d = v->data(f);
        if (d.current.size() > static_cast<std::size_t>(size)) d.current.resize(static_cast<std::size_t>(size));
        d.unsynced.push_back({true, size, {}});
        return SQLITE_OK;
    }
    static int sync(sqlite3_file* f, int) {
        CrashVfs* v = file(f)->vfs;
        if (!v->powered()) return SQLITE_IOERR_FSYNC;
        Data& d = v->data(f);
        d.durable = d.current;
        d.unsynced.clear();
        ++v->syncs;
        return SQLITE_OK;
    }
    static int file_size(sqlite3_file* f, sqlite3_int64* size) {
        CrashVfs* v = file(f)->vfs;
        if (v->cut) return SQLITE_IOERR_FSTAT;
        *size = static_cast<sqlite3_int64>(v->data(f).current.size());
        return SQLITE_OK;
    }
    static int lock(sqlite3_file*, int) { return SQLITE_OK; }
    static int unlock(sqlite3_file*, int) { return SQLITE_OK; }
    static int check_reserved(sqlite3_file*, int* out) {
        *out = 0;
        return SQLITE_OK;
    }
    static int file_control(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
    static int sector_size(sqlite3_file*) { return kSector; }
    static int device_characteristics(sqlite3_file*) { return 0; }  // no atomic or safe-append promises
    static int shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** pp) {
        CrashVfs* v = file(f)->vfs;
        if (v->cut) return SQLITE_IOERR_SHMMAP;
        auto& shm = v->data(f).shm;
        const auto r = static_cast<std::size_t>(region);
        if (shm.size() <= r) {
            if (!extend) {
                *pp = nullptr;
                return SQLITE_OK;
            }
            while (shm.size() <= r) {
                shm.emplace_back(new char[static_cast<std::size_t>(size)]);
                std::memset(shm.back().get(), 0, static_cast<std::size_t>(size));
            }
        }
        *pp = shm[r].get();
        return SQLITE_OK;
    }
    static int shm_lock(sqlite3_file*, int, int, int) { return SQLITE_OK; }
    static void shm_barrier(sqlite3_file*) {}
    static int shm_unmap(sqlite3_file* f, int del) {
        if (del) file(f)->vfs->data(f).shm.clear();
        return SQLITE_OK;
    }
    static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
        CrashVfs* v = self(vfs);
        f->pMethods = nullptr;
        if (v->cut) return SQLITE_CANTOPEN;
        const std::string n = name ? name : "/crash-temp-" + std::to_string(++v->temp_names_);
        if (v->files_.count(n) == 0) {
            if (!(flags & SQLITE_OPEN_CREATE)) return SQLITE_CANTOPEN;
            v->files_[n];
        }
        File* fl = file(f);
        fl->vfs = v;
        fl->name = new std::string(n);
        fl->delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0;
        if (out_flags) *out_flags = flags;
        f->pMethods = methods();
        return SQLITE_OK;
    }
    static int remove(sqlite3_vfs* vfs, const char* name, int) {
        CrashVfs* v = self(vfs);
        if (v->cut) return SQLITE_IOERR_DELETE;
        v->files_.erase(name);
        return SQLITE_OK;
    }
    static int access(sqlite3_vfs* vfs, const char* name, int, int* out) {
        CrashVfs* v = self(vfs);
        auto it = v->files_.find(name);
        *out = it != v->files_.end() && !it->second.current.empty() ? 1 : 0;  // as unix: exists, not empty
        return SQLITE_OK;
    }
    static int full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
        sqlite3_snprintf(n, out, "%s", name);
        return SQLITE_OK;
    }
    static int randomness(sqlite3_vfs* vfs, int n, char* out) {
        CrashVfs* v = self(vfs);
        for (int i = 0; i < n; ++i)
            out[i] = static_cast<char>(v->rng());
        return n;
    }
    static int sleep(sqlite3_vfs*, int us) { return us; }
    static int current_time(sqlite3_vfs* vfs, double* out) {
        sqlite3_vfs* r = self(vfs)->real_;
        return r->xCurrentTime(r, out);
    }
    static int current_time64(sqlite3_vfs* vfs, sqlite3_int64* out) {
        sqlite3_vfs* r = self(vfs)->real_;
        return r->xCurrentTimeInt64(r, out);
    }
    static int last_error(sqlite3_vfs*, int, char*) { return 0; }
};

}  // namespace fieldgate::test
