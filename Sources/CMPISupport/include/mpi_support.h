// The MPI calls mpm.distributed needs, over MPI_COMM_WORLD, with MPI's handle macros
// (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM: addresses of globals in Open MPI) resolved here, where C
// can see them. Every call returns an MPI error code (MPI_SUCCESS = 0): the communicator is set
// to MPI_ERRORS_RETURN at initialisation, so a failure returns instead of aborting silently.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Element kinds of a buffer: 0 float32, 1 int64, 2 bytes.
enum { MPM_MPI_FLOAT = 0, MPM_MPI_INT64 = 1, MPM_MPI_BYTE = 2 };
/// Reductions: 0 sum, 1 max, 2 min.
enum { MPM_MPI_SUM = 0, MPM_MPI_MAX = 1, MPM_MPI_MIN = 2 };

/// 1 when MPI_Init has run (and MPI_Finalize has not).
int mpm_mpi_active(void);
/// MPI_Init (thread level FUNNELED), MPI_ERRORS_RETURN on MPI_COMM_WORLD and the failed ranks'
/// communicator; safe to call twice.
int mpm_mpi_init(void);
int mpm_mpi_finalize(void);
int mpm_mpi_rank(int *rank);
int mpm_mpi_size(int *size);
int mpm_mpi_barrier(void);
/// In-place allreduce of `count` elements of `kind` with `op`.
int mpm_mpi_allreduce(void *buffer, int count, int kind, int op);
/// Broadcast of `bytes` bytes from `root`.
int mpm_mpi_broadcast(void *buffer, int bytes, int root);
/// Allgather of `bytes` bytes per rank into `out` (size x bytes).
int mpm_mpi_allgather(const void *send, int bytes, void *out);
/// The text of an MPI error code, written into `buffer` (NUL-terminated).
void mpm_mpi_error_string(int code, char *buffer, int length);
/// MPI_Abort on MPI_COMM_WORLD: ends every rank of the job.
void mpm_mpi_abort(int code);
/// After this rank failed: gathers every rank's `digest` (of its error report) into `digests`
/// (one per rank) on a communicator of its own, waiting at most `seconds` for the other ranks
/// to fail too. Returns 1 when every rank took part (all failed), 0 otherwise.
int mpm_mpi_failure_vote(int64_t digest, double seconds, int64_t *digests);
/// Waits for every failed rank (after a vote every rank took part in).
void mpm_mpi_failure_barrier(void);
