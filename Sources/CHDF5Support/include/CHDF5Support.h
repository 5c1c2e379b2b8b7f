// CHDF5Support: HDF5's constants for Swift. HDF5's type and property-list identifiers are
// macros over globals set by H5open, which Swift cannot import; these accessors return them.
// No Lua here: the data layer (JetData) imports this target, never CSupport.
#ifndef MPM_CHDF5SUPPORT_H
#define MPM_CHDF5SUPPORT_H

#include <stddef.h>
#include <hdf5.h>

// HDF5 constants (macros that call H5open and read globals).

hid_t mpm_h5t_native_float(void);
hid_t mpm_h5t_native_double(void);
hid_t mpm_h5t_native_int64(void);
hid_t mpm_h5t_native_int32(void);
hid_t mpm_h5t_native_int8(void);
hid_t mpm_h5t_native_uint8(void);
hid_t mpm_h5t_native_hbool(void);
hid_t mpm_h5t_c_s1(void);
hid_t mpm_h5p_file_access(void);
hid_t mpm_h5p_file_create(void);
hid_t mpm_h5p_dataset_create(void);
hid_t mpm_h5p_dataset_xfer(void);
hid_t mpm_h5p_link_create(void);
hid_t mpm_h5p_default(void);
hid_t mpm_h5s_all(void);
unsigned mpm_h5f_acc_rdonly(void);
unsigned mpm_h5f_acc_rdwr(void);
unsigned mpm_h5f_acc_trunc(void);
unsigned mpm_h5f_acc_excl(void);
/// Silences HDF5's automatic error stack printing; callers report errors themselves.
void mpm_h5_silence_errors(void);
/// Dataset access property list class (chunk cache settings).
hid_t mpm_h5p_dataset_access(void);
/// The size that marks a variable-length string type (H5T_VARIABLE).
size_t mpm_h5t_variable(void);
/// The most specific message on this thread's HDF5 error stack, copied into `buffer`
/// (empty string when the stack is empty). Used to explain failed opens and reads.
void mpm_h5_last_error(char *buffer, size_t size);

#endif
