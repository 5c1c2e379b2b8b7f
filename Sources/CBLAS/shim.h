#include <cblas.h>

/* LAPACK (Fortran interface) as shipped inside libopenblas, which exports the reference
 * routines; OpenBLAS installs no lapack.h/lapacke.h here, so the few used are declared.
 * Trailing size_t arguments are the hidden lengths of the character arguments (gfortran ABI). */
#include <stddef.h>
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *iwork, int *info, size_t jobz_len);
