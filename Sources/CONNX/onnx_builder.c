#include "onnx_builder.h"
#include "onnx.pb-c.h"
#include <stdlib.h>
#include <string.h>

/* Appends `item` to a protobuf-c repeated pointer field (array + count). */
static int append(void ***array, size_t *count, void *item) {
    void **grown = realloc(*array, (*count + 1) * sizeof(void *));
    if (!grown) return -1;
    grown[*count] = item;
    *array = grown;
    *count += 1;
    return 0;
}

static char *copy(const char *s) { return s ? strdup(s) : NULL; }

static Onnx__NodeProto *last_node(mpm_onnx_model *model) {
    Onnx__GraphProto *g = model->graph;
    return g->n_node ? g->node[g->n_node - 1] : NULL;
}

mpm_onnx_model *mpm_onnx_model_new(int64_t ir_version, int64_t opset, const char *producer,
                                   const char *producer_version, const char *graph_name) {
    Onnx__ModelProto *m = malloc(sizeof *m);
    Onnx__GraphProto *g = malloc(sizeof *g);
    Onnx__OperatorSetIdProto *op = malloc(sizeof *op);
    if (!m || !g || !op) { free(m); free(g); free(op); return NULL; }
    onnx__model_proto__init(m);
    onnx__graph_proto__init(g);
    onnx__operator_set_id_proto__init(op);
    m->graph = g;
    m->has_ir_version = 1;
    m->ir_version = ir_version;
    op->domain = copy("");
    op->has_version = 1;
    op->version = opset;
    m->producer_name = copy(producer);
    m->producer_version = copy(producer_version);
    g->name = copy(graph_name);
    if (!op->domain || !m->producer_name || !m->producer_version || !g->name
        || append((void ***)&m->opset_import, &m->n_opset_import, op) != 0) {
        if (m->n_opset_import == 0) onnx__operator_set_id_proto__free_unpacked(op, NULL);
        mpm_onnx_model_free(m);
        return NULL;
    }
    return m;
}

void mpm_onnx_model_free(mpm_onnx_model *model) {
    if (model) onnx__model_proto__free_unpacked(model, NULL);
}

int mpm_onnx_metadata(mpm_onnx_model *model, const char *key, const char *value) {
    Onnx__StringStringEntryProto *e = malloc(sizeof *e);
    if (!e) return -1;
    onnx__string_string_entry_proto__init(e);
    e->key = copy(key);
    e->value = copy(value);
    if (!e->key || !e->value || append((void ***)&model->metadata_props, &model->n_metadata_props, e) != 0) {
        onnx__string_string_entry_proto__free_unpacked(e, NULL);
        return -1;
    }
    return 0;
}

int mpm_onnx_node(mpm_onnx_model *model, const char *op_type, const char *name) {
    Onnx__NodeProto *n = malloc(sizeof *n);
    if (!n) return -1;
    onnx__node_proto__init(n);
    n->op_type = copy(op_type);
    n->name = copy(name);
    n->domain = copy("");
    if (!n->op_type || !n->name || !n->domain
        || append((void ***)&model->graph->node, &model->graph->n_node, n) != 0) {
        onnx__node_proto__free_unpacked(n, NULL);
        return -1;
    }
    return 0;
}

int mpm_onnx_node_input(mpm_onnx_model *model, const char *name) {
    Onnx__NodeProto *n = last_node(model);
    char *s = copy(name);
    if (!n || !s || append((void ***)&n->input, &n->n_input, s) != 0) { free(s); return -1; }
    return 0;
}

int mpm_onnx_node_output(mpm_onnx_model *model, const char *name) {
    Onnx__NodeProto *n = last_node(model);
    char *s = copy(name);
    if (!n || !s || append((void ***)&n->output, &n->n_output, s) != 0) { free(s); return -1; }
    return 0;
}

/* A new attribute on the last node, of `type`; the caller fills its value. */
static Onnx__AttributeProto *attribute(mpm_onnx_model *model, const char *name, Onnx__AttributeProto__AttributeType type) {
    Onnx__NodeProto *n = last_node(model);
    Onnx__AttributeProto *a = n ? malloc(sizeof *a) : NULL;
    if (!a) return NULL;
    onnx__attribute_proto__init(a);
    a->name = copy(name);
    a->has_type = 1;
    a->type = type;
    if (!a->name || append((void ***)&n->attribute, &n->n_attribute, a) != 0) {
        onnx__attribute_proto__free_unpacked(a, NULL);
        return NULL;
    }
    return a;
}

int mpm_onnx_node_attr_int(mpm_onnx_model *model, const char *name, int64_t value) {
    Onnx__AttributeProto *a = attribute(model, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (!a) return -1;
    a->has_i = 1;
    a->i = value;
    return 0;
}

int mpm_onnx_node_attr_float(mpm_onnx_model *model, const char *name, float value) {
    Onnx__AttributeProto *a = attribute(model, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (!a) return -1;
    a->has_f = 1;
    a->f = value;
    return 0;
}

int mpm_onnx_node_attr_ints(mpm_onnx_model *model, const char *name, const int64_t *values, size_t count) {
    Onnx__AttributeProto *a = attribute(model, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    if (!a) return -1;
    if (count == 0) return 0;
    a->ints = malloc(count * sizeof *values);
    if (!a->ints) return -1;
    memcpy(a->ints, values, count * sizeof *values);
    a->n_ints = count;
    return 0;
}

int mpm_onnx_initializer(mpm_onnx_model *model, const char *name, int32_t data_type,
                         const int64_t *dims, size_t rank, const void *data, size_t bytes) {
    Onnx__TensorProto *t = malloc(sizeof *t);
    if (!t) return -1;
    onnx__tensor_proto__init(t);
    t->name = copy(name);
    t->has_data_type = 1;
    t->data_type = data_type;
    t->dims = rank ? malloc(rank * sizeof *dims) : NULL;
    t->raw_data.data = malloc(bytes ? bytes : 1);
    if (!t->name || (rank && !t->dims) || !t->raw_data.data) {
        onnx__tensor_proto__free_unpacked(t, NULL);
        return -1;
    }
    if (rank) memcpy(t->dims, dims, rank * sizeof *dims);
    t->n_dims = rank;
    if (bytes) memcpy(t->raw_data.data, data, bytes);
    t->raw_data.len = bytes;
    t->has_raw_data = 1;
    if (append((void ***)&model->graph->initializer, &model->graph->n_initializer, t) != 0) {
        onnx__tensor_proto__free_unpacked(t, NULL);
        return -1;
    }
    return 0;
}

int mpm_onnx_value(mpm_onnx_model *model, int is_output, const char *name, int32_t data_type,
                   const char *const *dim_params, const int64_t *dims, size_t rank) {
    Onnx__ValueInfoProto *v = malloc(sizeof *v);
    Onnx__TypeProto *type = malloc(sizeof *type);
    Onnx__TypeProto__Tensor *tensor = malloc(sizeof *tensor);
    Onnx__TensorShapeProto *shape = malloc(sizeof *shape);
    if (!v || !type || !tensor || !shape) { free(v); free(type); free(tensor); free(shape); return -1; }
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(type);
    onnx__type_proto__tensor__init(tensor);
    onnx__tensor_shape_proto__init(shape);
    v->type = type;
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tensor;
    tensor->has_elem_type = 1;
    tensor->elem_type = data_type;
    tensor->shape = shape;
    v->name = copy(name);
    int failed = !v->name;
    for (size_t i = 0; i < rank && !failed; i++) {
        Onnx__TensorShapeProto__Dimension *d = malloc(sizeof *d);
        if (!d) { failed = 1; break; }
        onnx__tensor_shape_proto__dimension__init(d);
        if (dim_params && dim_params[i]) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = copy(dim_params[i]);
            if (!d->dim_param) { free(d); failed = 1; break; }
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        }
        if (append((void ***)&shape->dim, &shape->n_dim, d) != 0) {
            protobuf_c_message_free_unpacked(&d->base, NULL);
            failed = 1;
        }
    }
    Onnx__GraphProto *g = model->graph;
    if (failed || append(is_output ? (void ***)&g->output : (void ***)&g->input,
                         is_output ? &g->n_output : &g->n_input, v) != 0) {
        onnx__value_info_proto__free_unpacked(v, NULL);
        return -1;
    }
    return 0;
}

size_t mpm_onnx_packed_size(const mpm_onnx_model *model) { return onnx__model_proto__get_packed_size(model); }

size_t mpm_onnx_pack(const mpm_onnx_model *model, uint8_t *out) { return onnx__model_proto__pack(model, out); }
