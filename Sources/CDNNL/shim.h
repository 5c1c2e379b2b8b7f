#include <oneapi/dnnl/dnnl.h>

/* Debian's oneDNN 2.6 runs its threads on OpenMP (libgomp). The product layer gives each call one
   thread (Tensors/OneDNN.swift): the number is per calling thread, so it is set on the kernels'
   own workers before each call. Declared here because GCC's omp.h is not on clang's path. */
void omp_set_num_threads(int);
