#ifndef MPM_ONNX_BUILDER_H
#define MPM_ONNX_BUILDER_H
/* Fills the protobuf-c messages of an ONNX model (onnx.pb-c.h, generated from Debian's onnx.proto)
   one field at a time, so Swift never touches the generated structs, and packs them with
   protobuf-c. Every string and array is copied into malloc'ed memory owned by the model, so
   mpm_onnx_model_free (protobuf-c's free_unpacked) releases all of it. Functions returning int
   answer 0, or -1 when memory ran out (the model stays valid and can be freed). */
#include <stddef.h>
#include <stdint.h>

typedef struct Onnx__ModelProto mpm_onnx_model;

/* ONNX TensorProto data types used by the exporter. */
enum { MPM_ONNX_FLOAT = 1, MPM_ONNX_INT64 = 7, MPM_ONNX_BOOL = 9 };

/* A model with one empty graph, importing the default ("ai.onnx") operator set `opset`. */
mpm_onnx_model *mpm_onnx_model_new(int64_t ir_version, int64_t opset, const char *producer,
                                   const char *producer_version, const char *graph_name);
void mpm_onnx_model_free(mpm_onnx_model *model);
int mpm_onnx_metadata(mpm_onnx_model *model, const char *key, const char *value);

/* Appends a node; the input, output and attribute calls below add to the last node appended.
   An empty input name is ONNX's "optional input left out". */
int mpm_onnx_node(mpm_onnx_model *model, const char *op_type, const char *name);
int mpm_onnx_node_input(mpm_onnx_model *model, const char *name);
int mpm_onnx_node_output(mpm_onnx_model *model, const char *name);
int mpm_onnx_node_attr_int(mpm_onnx_model *model, const char *name, int64_t value);
int mpm_onnx_node_attr_float(mpm_onnx_model *model, const char *name, float value);
int mpm_onnx_node_attr_ints(mpm_onnx_model *model, const char *name, const int64_t *values, size_t count);

/* A constant tensor of the graph (weights, shapes): `bytes` of little-endian raw data. */
int mpm_onnx_initializer(mpm_onnx_model *model, const char *name, int32_t data_type,
                         const int64_t *dims, size_t rank, const void *data, size_t bytes);

/* A graph input (is_output = 0) or output (1) of tensor type `data_type`; dimension i is named
   dim_params[i] (a dynamic axis such as "batch") when that is not NULL, else dims[i]. */
int mpm_onnx_value(mpm_onnx_model *model, int is_output, const char *name, int32_t data_type,
                   const char *const *dim_params, const int64_t *dims, size_t rank);

/* The serialised size, and the serialisation into `out` (that many bytes); returns bytes written. */
size_t mpm_onnx_packed_size(const mpm_onnx_model *model);
size_t mpm_onnx_pack(const mpm_onnx_model *model, uint8_t *out);
#endif
