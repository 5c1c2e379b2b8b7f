// HDF5's type and property-list identifiers are macros over globals set by H5open; Swift sees
// them through these accessors.
#include "CHDF5Support.h"

hid_t mpm_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
hid_t mpm_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
hid_t mpm_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
hid_t mpm_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
hid_t mpm_h5t_native_int8(void) { return H5T_NATIVE_INT8; }
hid_t mpm_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
hid_t mpm_h5t_native_hbool(void) { return H5T_NATIVE_HBOOL; }
hid_t mpm_h5t_c_s1(void) { return H5T_C_S1; }
hid_t mpm_h5p_file_access(void) { return H5P_FILE_ACCESS; }
hid_t mpm_h5p_file_create(void) { return H5P_FILE_CREATE; }
hid_t mpm_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
hid_t mpm_h5p_dataset_xfer(void) { return H5P_DATASET_XFER; }
hid_t mpm_h5p_link_create(void) { return H5P_LINK_CREATE; }
hid_t mpm_h5p_default(void) { return H5P_DEFAULT; }
hid_t mpm_h5s_all(void) { return H5S_ALL; }
unsigned mpm_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
unsigned mpm_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
unsigned mpm_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
unsigned mpm_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
void mpm_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#include <stdio.h>

hid_t mpm_h5p_dataset_access(void) { return H5P_DATASET_ACCESS; }
size_t mpm_h5t_variable(void) { return H5T_VARIABLE; }

// H5Ewalk visits the stack from the most specific error upward; the first entry is the one
// that says what is actually wrong ("truncated file: eof = ..."). The text is copied during the
// walk because the stack owns it.
typedef struct { char *buffer; size_t size; } mpm_h5_error_text;

static herr_t mpm_h5_first_error(unsigned n, const H5E_error2_t *err, void *data) {
    mpm_h5_error_text *out = (mpm_h5_error_text *)data;
    if (n == 0 && err && err->desc) snprintf(out->buffer, out->size, "%s", err->desc);
    return 0;
}

void mpm_h5_last_error(char *buffer, size_t size) {
    if (size == 0) return;
    buffer[0] = 0;
    mpm_h5_error_text out = { buffer, size };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, mpm_h5_first_error, &out);
}
