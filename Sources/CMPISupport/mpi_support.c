#include "mpi_support.h"
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static MPI_Datatype datatype(int kind) {
    switch (kind) {
    case MPM_MPI_FLOAT: return MPI_FLOAT;
    case MPM_MPI_INT64: return MPI_INT64_T;
    default: return MPI_BYTE;
    }
}

static MPI_Op operation(int op) {
    switch (op) {
    case MPM_MPI_MAX: return MPI_MAX;
    case MPM_MPI_MIN: return MPI_MIN;
    default: return MPI_SUM;
    }
}

// The failed ranks' own communicator: its collectives never match the script's on
// MPI_COMM_WORLD, where the ranks still running may wait.
static MPI_Comm failures = MPI_COMM_NULL;

int mpm_mpi_active(void) {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    return initialized && !finalized;
}

int mpm_mpi_init(void) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return MPI_SUCCESS;
    // Open MPI (ORTE) prints a banner of its own when a rank calls MPI_Abort; the error report
    // is already one line, so the banner is silenced unless the user asks for it (=0). Read at
    // MPI_Init only.
    setenv("OMPI_MCA_orte_execute_quiet", "1", 0);
    int provided = 0;
    int code = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (code != MPI_SUCCESS) return code;
    code = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (code != MPI_SUCCESS) return code;
    return MPI_Comm_dup(MPI_COMM_WORLD, &failures);
}

int mpm_mpi_finalize(void) {
    if (!mpm_mpi_active()) return MPI_SUCCESS;
    if (failures != MPI_COMM_NULL) MPI_Comm_free(&failures);
    return MPI_Finalize();
}

int mpm_mpi_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }
int mpm_mpi_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }
int mpm_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

int mpm_mpi_allreduce(void *buffer, int count, int kind, int op) {
    return MPI_Allreduce(MPI_IN_PLACE, buffer, count, datatype(kind), operation(op), MPI_COMM_WORLD);
}

int mpm_mpi_broadcast(void *buffer, int bytes, int root) {
    return MPI_Bcast(buffer, bytes, MPI_BYTE, root, MPI_COMM_WORLD);
}

int mpm_mpi_allgather(const void *send, int bytes, void *out) {
    return MPI_Allgather(send, bytes, MPI_BYTE, out, bytes, MPI_BYTE, MPI_COMM_WORLD);
}

void mpm_mpi_error_string(int code, char *buffer, int length) {
    int written = 0;
    if (length <= 0) return;
    if (length < MPI_MAX_ERROR_STRING) {
        char full[MPI_MAX_ERROR_STRING];
        MPI_Error_string(code, full, &written);
        strncpy(buffer, full, (size_t)length - 1);
        buffer[length - 1] = 0;
        return;
    }
    MPI_Error_string(code, buffer, &written);
    buffer[written] = 0;
}

void mpm_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int mpm_mpi_failure_vote(int64_t digest, double seconds, int64_t *digests) {
    // Buffers that outlive a vote that timed out (MPI may still complete it before the abort).
    static int64_t sent;
    static int64_t *received = NULL;
    static MPI_Request request;
    int size = 0;
    if (failures == MPI_COMM_NULL || MPI_Comm_size(failures, &size) != MPI_SUCCESS) return 0;
    if (received == NULL && (received = calloc((size_t)size, sizeof *received)) == NULL) return 0;
    sent = digest;
    if (MPI_Iallgather(&sent, 1, MPI_INT64_T, received, 1, MPI_INT64_T, failures, &request) != MPI_SUCCESS) return 0;
    double deadline = MPI_Wtime() + seconds;
    int done = 0;
    while (MPI_Test(&request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done && MPI_Wtime() < deadline) usleep(1000);
    if (done) memcpy(digests, received, (size_t)size * sizeof *received);
    return done;
}

void mpm_mpi_failure_barrier(void) {
    if (failures != MPI_COMM_NULL) MPI_Barrier(failures);
}
