// The Lua side of the Swift boundary: trampoline, pending errors, heap tracking, Ctrl-C.
#include "CSupport.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
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

static char *library_source = NULL;  // "@<folder>/mpm/": the chunk names of the library's files
static char *library_path = NULL;    // "<folder>/mpm/": the same, as it appears inside messages
static lua_CFunction error_function = NULL, assert_function = NULL;
static int show_tracebacks = 0;

void mpm_errors_show_tracebacks(int on) { show_tracebacks = on; }

static lua_CFunction global_c_function(lua_State *L, const char *name) {
    lua_pushglobaltable(L);
    lua_pushstring(L, name);
    lua_rawget(L, -2);
    lua_CFunction function = lua_tocfunction(L, -1);
    lua_pop(L, 2);
    return function;
}

void mpm_errors_setup(lua_State *L, const char *library_folder) {
    error_function = global_c_function(L, "error");
    assert_function = global_c_function(L, "assert");
    free(library_source);
    free(library_path);
    library_source = library_path = NULL;
    if (library_folder == NULL) return;
    size_t length = strlen(library_folder) + 8;
    library_source = malloc(length);
    library_path = malloc(length);
    if (library_source == NULL || library_path == NULL) return;
    snprintf(library_source, length, "@%s/mpm/", library_folder);
    snprintf(library_path, length, "%s/mpm/", library_folder);
}

static int in_library(const lua_Debug *ar) {
    return library_source != NULL && strncmp(ar->source, library_source, strlen(library_source)) == 0;
}

static int ends_with(const char *text, const char *suffix) {
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

// Length of a leading "name:123: " (a Lua position), 0 when the message has none.
static size_t position_length(const char *message) {
    const char *p = message;
    while (*p != '\0' && *p != ':' && *p != '\n') p++;
    if (*p != ':' || p == message || p[1] < '0' || p[1] > '9') return 0;
    p++;
    while (*p >= '0' && *p <= '9') p++;
    return (p[0] == ':' && p[1] == ' ') ? (size_t)(p + 2 - message) : 0;
}

// Length of a leading position in a file of the library ("<folder>/mpm/x.lua:12: ", or as Lua
// shortens a long path, "...er/mpm/x.lua:12: "), 0 when there is none.
static size_t library_position_length(const char *text) {
    if (library_path == NULL) return 0;
    size_t length = position_length(text);
    if (length == 0) return 0;
    if (strncmp(text, library_path, strlen(library_path)) == 0) return length;
    if (strncmp(text, "...", 3) != 0) return 0;
    // The shortened path's folder, up to its last "/mpm/", must end the library's folder.
    const char *folder_end = NULL;
    for (const char *p = text + 3; p < text + length; p++)
        if (strncmp(p, "/mpm/", 5) == 0) folder_end = p + 5;
    if (folder_end == NULL) return 0;
    size_t tail = (size_t)(folder_end - (text + 3)), whole = strlen(library_path);
    return tail <= whole && strncmp(library_path + whole - tail, text + 3, tail) == 0 ? length : 0;
}

// Whether the error being handled is a user's mistake reported by the library; sets *skip to
// the length of the library position the message starts with (0: none).
static int is_users_mistake(lua_State *L, const char *message, size_t *skip) {
    lua_Debug ar;
    *skip = 0;
    // Level 1 raised the error: a runtime error has a Lua function there, a deliberate one the
    // C function `error`, `assert` or the trampoline of a Swift function.
    if (!lua_getstack(L, 1, &ar)) return 0;
    lua_getinfo(L, "f", &ar);
    lua_CFunction raiser = lua_tocfunction(L, -1);
    lua_pop(L, 1);
    int deliberate = raiser != NULL && (raiser == trampoline || raiser == error_function ||
                                        (raiser == assert_function && !ends_with(message, "assertion failed!")));
    if (!deliberate) return 0;
    int from_library = lua_getstack(L, 2, &ar) && lua_getinfo(L, "S", &ar) && in_library(&ar);
    // The message starts with the position of the frame it blames (error's level, a Swift
    // function's caller): in the library, that position means nothing to the user; in a script
    // that called the library (`error(message, 2)` in the library), it says which call, and
    // stays.
    for (int level = 2; level < 64 && lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline <= 0) continue;
        char where[LUA_IDSIZE + 32];
        int n = snprintf(where, sizeof where, "%s:%d: ", ar.short_src, ar.currentline);
        if (n > 0 && (size_t)n < sizeof where && strncmp(message, where, (size_t)n) == 0) {
            if (in_library(&ar)) *skip = (size_t)n;
            return in_library(&ar) || from_library;
        }
    }
    // A position of a frame no longer on the stack (an error the library caught with pcall and
    // passes on): the user's mistake when it is the library's own position; any other keeps its
    // traceback.
    if (position_length(message) > 0) {
        *skip = from_library ? library_position_length(message) : 0;
        return *skip > 0;
    }
    // No position: error(message, 0) is a message meant for the user wherever it is raised
    // (its author removed the position); an assert or a Swift function only from the library.
    return raiser == error_function || from_library;
}

// Pushes `message` without the library's positions inside it, as when the library wraps an
// error it caught ("loading x: <folder>/mpm/y.lua:12: no such file").
static void push_without_library_positions(lua_State *L, const char *message) {
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    const char *p = message;
    for (const char *q = message; *q != '\0'; q++) {
        size_t length = (q == message || q[-1] == ' ') ? library_position_length(q) : 0;
        if (length == 0) continue;
        luaL_addlstring(&buffer, p, (size_t)(q - p));
        p = q + length;
        q = p - 1;
    }
    luaL_addstring(&buffer, p);
    luaL_pushresult(&buffer);
}

int mpm_traceback_handler(lua_State *L) {
    const char *message = lua_tostring(L, 1);
    if (message == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    if (!show_tracebacks) {
        // Ctrl-C: the hook's "interrupted!", or a Swift loop's "...: interrupted".
        if (interrupt_flag && (ends_with(message, "interrupted!") || ends_with(message, ": interrupted"))) {
            lua_pushliteral(L, "interrupted");
            return 1;
        }
        size_t skip;
        if (is_users_mistake(L, message, &skip)) {
            push_without_library_positions(L, message + skip);
            return 1;
        }
    }
    luaL_traceback(L, L, message, 1);
    return 1;
}
