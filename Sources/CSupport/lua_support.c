// The Lua side of the Swift boundary: trampoline, pending errors, heap tracking, Ctrl-C.
#include "CSupport.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static mpm_dispatch_function dispatcher = NULL;

void mpm_set_dispatcher(mpm_dispatch_function function) { dispatcher = function; }

// --- pending error ---------------------------------------------------------------------------
// One buffer per thread, reused and never freed: the trampoline raises right after formatting
// from it, so nothing may need releasing after the longjmp. A Lua state stays on one thread;
// several states may run on several threads.

static _Thread_local char *error_buffer = NULL;
static _Thread_local size_t error_capacity = 0;
static _Thread_local int error_argument = 0;
static const char *const out_of_memory = "not enough memory for the error message";

void mpm_error_set(const char *message, int argument) {
    size_t length = strlen(message);
    if (length + 1 > error_capacity) {
        char *grown = realloc(error_buffer, length + 1);
        if (grown == NULL) {
            error_argument = argument;
            return;  // raise_pending falls back to a fixed message
        }
        error_buffer = grown;
        error_capacity = length + 1;
    }
    memcpy(error_buffer, message, length + 1);
    error_argument = argument;
}

static const char *pending_message(void) {
    return error_buffer != NULL ? error_buffer : out_of_memory;
}

static char error_slot_key;  // its address keys the pending error value in the registry

void mpm_error_store_value(lua_State *L) {
    lua_rawsetp(L, LUA_REGISTRYINDEX, &error_slot_key);  // the key exists: no allocation
}

static int raise_pending(lua_State *L, int status) {
    switch (status) {
    case MPM_ERROR_ARGUMENT:
        return luaL_argerror(L, error_argument, pending_message());
    case MPM_ERROR_VALUE:
        lua_rawgetp(L, LUA_REGISTRYINDEX, &error_slot_key);
        lua_pushboolean(L, 0);  // keep the slot's key alive; false marks it empty
        lua_rawsetp(L, LUA_REGISTRYINDEX, &error_slot_key);
        return lua_error(L);
    default:
        return luaL_error(L, "%s", pending_message());
    }
}

// --- trampoline ------------------------------------------------------------------------------

static int trampoline(lua_State *L) {
    lua_Integer index = lua_tointegerx(L, lua_upvalueindex(1), NULL);
    if (dispatcher == NULL) return luaL_error(L, "mpmlua: Swift dispatcher not installed");
    int status = dispatcher(L, index);  // Swift frames live only inside this call
    if (status >= 0) {
        mpm_collect_if_needed(L);
        return status;
    }
    return raise_pending(L, status);
}

void mpm_push_swift_function(lua_State *L, lua_Integer index) {
    lua_pushinteger(L, index);
    lua_pushcclosure(L, trampoline, 1);
}

// --- heap tracking ---------------------------------------------------------------------------

static mpm_live_bytes_function live_bytes_source = NULL;
static int64_t collect_floor = (int64_t)256 << 20;
static int64_t collect_threshold = (int64_t)256 << 20;
static int64_t collections = 0;

void mpm_set_live_bytes_source(mpm_live_bytes_function source) { live_bytes_source = source; }
int64_t mpm_bytes_live(void) { return live_bytes_source != NULL ? live_bytes_source() : 0; }
int64_t mpm_collections_triggered(void) { return collections; }

void mpm_set_collect_floor(int64_t bytes) {
    collect_floor = bytes;
    collect_threshold = bytes;
}

void mpm_collect_if_needed(lua_State *L) {
    if (mpm_bytes_live() <= collect_threshold) return;
    lua_gc(L, LUA_GCCOLLECT);
    collections += 1;
    int64_t survived = mpm_bytes_live();
    collect_threshold = survived * 2 > collect_floor ? survived * 2 : collect_floor;
}

void mpm_prepare_state(lua_State *L) {
    lua_pushboolean(L, 0);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &error_slot_key);
}

// --- Ctrl-C ----------------------------------------------------------------------------------

static lua_State *volatile interrupted_state = NULL;
static volatile sig_atomic_t interrupt_flag = 0;

static void stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_sigint(int signal_number) {
    (void)signal_number;
    interrupt_flag = 1;
    signal(SIGINT, SIG_DFL);  // a second Ctrl-C kills the process, as in lua.c
    if (interrupted_state != NULL)
        lua_sethook(interrupted_state, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void mpm_interrupt_arm(lua_State *L) {
    interrupted_state = L;
    signal(SIGINT, on_sigint);
    // A parent may have started us with SIGINT blocked (signal masks are inherited): Ctrl-C
    // must still reach the handler.
    sigset_t interrupt;
    sigemptyset(&interrupt);
    sigaddset(&interrupt, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &interrupt, NULL);
}

void mpm_interrupt_disarm(void) {
    signal(SIGINT, SIG_DFL);
    interrupted_state = NULL;
}

int mpm_interrupt_pending(void) { return interrupt_flag != 0; }
void mpm_interrupt_clear(void) { interrupt_flag = 0; }

// --- message handler -------------------------------------------------------------------------

int mpm_traceback_handler(lua_State *L) {
    const char *message = lua_tostring(L, 1);
    if (message == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, message, 1);
    return 1;
}
