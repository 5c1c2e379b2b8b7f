// CSupport: the C side of the Swift <-> Lua boundary (HDF5 constants are CHDF5Support).
//
// Rule (docs/lua-binding.md): Lua errors are raised with longjmp, which must never cross a Swift
// frame. Every Swift function callable from Lua therefore runs under mpm_trampoline: Swift reads
// its arguments with non-raising calls, records any error here, and returns; only then does the
// C trampoline raise the Lua error.
#ifndef MPM_CSUPPORT_H
#define MPM_CSUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

// ---------------------------------------------------------------------------------------------
// Trampoline

/// Status codes a Swift implementation returns instead of a result count.
enum {
    MPM_ERROR_MESSAGE = -1,  // raise the recorded message with the caller's position
    MPM_ERROR_ARGUMENT = -2, // raise "bad argument #n to 'f' (message)"
    MPM_ERROR_VALUE = -3,    // re-raise the Lua value recorded with mpm_error_store_value
};

/// The Swift dispatcher: runs Swift function number `index` on the arguments in L.
/// Returns the number of results pushed (>= 0) or one of the MPM_ERROR_* codes.
typedef int (*mpm_dispatch_function)(lua_State *L, lua_Integer index);

/// Installs the dispatcher (once, before any Swift function is pushed).
void mpm_set_dispatcher(mpm_dispatch_function dispatcher);

/// Pushes a Lua function that calls Swift function number `index` through the trampoline.
void mpm_push_swift_function(lua_State *L, lua_Integer index);

/// Records an error message (copied) and, for MPM_ERROR_ARGUMENT, the argument position.
void mpm_error_set(const char *message, int argument);

/// Moves the value on top of the stack into the pending-error slot (pops it). Never raises:
/// the slot is created by mpm_prepare_state.
void mpm_error_store_value(lua_State *L);

/// Prepares a state for Swift functions: the error slot, the collector thresholds.
/// May raise only on out-of-memory at start-up; call it before any Swift frame is live.
void mpm_prepare_state(lua_State *L);

// ---------------------------------------------------------------------------------------------
// Memory accounting: tensor bytes drive the Lua collector (Torch7's heap tracking).

/// Where the live tensor byte count comes from (the Tensors allocator, installed by the bindings;
/// the compute layers know nothing of Lua).
typedef int64_t (*mpm_live_bytes_function)(void);
void mpm_set_live_bytes_source(mpm_live_bytes_function source);
/// Bytes currently held by live tensors (0 until a source is installed).
int64_t mpm_bytes_live(void);
/// Runs a full collection when live tensor bytes exceed the threshold, then sets the threshold
/// to twice what survived (at least the floor). Called by the trampoline after Swift returns.
void mpm_collect_if_needed(lua_State *L);
/// Sets the floor of the collection threshold in bytes (default 256 MiB).
void mpm_set_collect_floor(int64_t bytes);
/// Number of full collections triggered by tensor bytes (for tests and diagnostics).
int64_t mpm_collections_triggered(void);

// ---------------------------------------------------------------------------------------------
// Interruption (Ctrl-C): a signal handler sets a hook that raises "interrupted!" at the next
// Lua instruction, exactly as lua.c does; Swift loops may poll mpm_interrupt_pending().

/// Installs the SIGINT handler for running a chunk in L.
void mpm_interrupt_arm(lua_State *L);
/// Restores the default SIGINT action (e.g. while the REPL waits for input).
void mpm_interrupt_disarm(void);
/// Non-zero when Ctrl-C was pressed since the last clear.
int mpm_interrupt_pending(void);
void mpm_interrupt_clear(void);

// ---------------------------------------------------------------------------------------------
// Lua macros as functions (Swift cannot import function-like macros).

static inline int mpm_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int mpm_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void mpm_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void mpm_newtable(lua_State *L) { lua_newtable(L); }
static inline int mpm_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcall(L, nargs, nresults, msgh);
}
static inline const char *mpm_tostring(lua_State *L, int i) { return lua_tostring(L, i); }
static inline void mpm_insert(lua_State *L, int i) { lua_insert(L, i); }
static inline void mpm_remove(lua_State *L, int i) { lua_remove(L, i); }
static inline void mpm_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
static inline void *mpm_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 1); }
static inline int mpm_loadbuffer(lua_State *L, const char *s, size_t n, const char *name) {
    return luaL_loadbuffer(L, s, n, name);
}
static inline int mpm_loadfile(lua_State *L, const char *path) { return luaL_loadfile(L, path); }

// ---------------------------------------------------------------------------------------------
// Error reports (docs/architecture.md, "Errors"): a user's mistake in one line, a bug with its
// position and traceback.

/// Message handler for lua_pcall at the top level. A string error raised on purpose (`error`,
/// `assert` with a message, or a Swift function) from the library's own code is a user's
/// mistake: the message alone, without the library's file:line. An interruption (Ctrl-C) is
/// "interrupted". Anything else (a runtime error anywhere, an error raised in a script or REPL
/// chunk) gets one traceback. Other values use __tostring (as lua.c does).
int mpm_traceback_handler(lua_State *L);
/// Tells the handler where the library lives (the folder holding mpm/init.lua; NULL: nowhere)
/// and which `error` and `assert` are the base library's (read from L's globals). Call once the
/// standard libraries are open, before any Swift frame is live.
void mpm_errors_setup(lua_State *L, const char *library_folder);
/// Non-zero: every string error gets its traceback (mpmlua --traceback, MPMLUA_TRACEBACK=1).
void mpm_errors_show_tracebacks(int on);

#endif
