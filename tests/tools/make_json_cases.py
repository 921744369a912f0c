#!/usr/bin/python3
"""Regenerates the committed data-driven JSON cases:
tests/data/encodings/{valid,invalid}/<case>/ and tests/data/config/...

Each invalid case is input.json plus `error` (status name, then a substring
the message must contain); each valid case is input.json plus `expected`
(the summary line the test prints). The cases are committed, so this script
only runs by hand after editing a case below:

    /usr/bin/python3 tests/tools/make_json_cases.py .
"""
import sys
import json, os, copy
root = sys.argv[1] + "/tests/data/encodings"
I8S = {"bitwidth": 8, "dtype": "int", "is_symmetric": "True", "max": 0.5, "min": -0.503937008, "offset": -128, "scale": 0.003937008}
I8A = {"bitwidth": 8, "dtype": "int", "is_symmetric": "False", "max": 2.996078431, "min": -1.003921569, "offset": -64, "scale": 0.015686275}
E100 = {"name": "conv1.weight", "enc_type": "PER_TENSOR", "dtype": "INT", "bw": 8, "is_sym": True, "scale": [0.5], "offset": [-128.0]}
def v100(**kw):
    e = dict(E100); e.update(kw)
    for k, v in list(e.items()):
        if v is None: del e[k]
    return {"version": "1.0.0", "activation_encodings": [], "param_encodings": [e]}
def v061(entry_list, name="conv1.weight"):
    return {"version": "0.6.1", "activation_encodings": {}, "param_encodings": {name: entry_list}}
def e061(**kw):
    e = dict(I8S); e.update(kw)
    for k, v in list(e.items()):
        if v is None: del e[k]
    return e
def v200(*ents):
    return {"version": "2.0.0", "producer": {"package": "x", "version": "1"}, "encodings": list(ents)}

invalid = {
 "syntax_error": ("raw", '{"version": "1.0.0",\n  "param_encodings": [}\n', "QSIM_ERR_PARSE", "line 2, column"),
 "trailing_garbage": ("raw", '[]\nx\n', "QSIM_ERR_PARSE", "line 2"),
 "empty_file": ("raw", '', "QSIM_ERR_PARSE", "line 1"),
 "duplicate_key": ("raw", '{"version": "0.6.1", "activation_encodings": {}, "param_encodings": {"a": [], "a": []}}', "QSIM_ERR_PARSE", "duplicate object key"),
 "duplicate_name_100": ({"version": "1.0.0", "activation_encodings": [E100], "param_encodings": [E100]}, "QSIM_ERR_PARSE", "conv1.weight: duplicate encoding name"),
 "duplicate_name_200": (v200({"name": "a", "output_dtype": "int8", "y_scale": 0.1}, {"name": "a", "output_dtype": "int8", "y_scale": 0.1}), "QSIM_ERR_PARSE", "a: duplicate encoding name"),
 "duplicate_name_061_sections": ({"version": "0.6.1", "activation_encodings": {"t": [I8A]}, "param_encodings": {"t": [I8S]}}, "QSIM_ERR_PARSE", "t: duplicate encoding name"),
 "bw_string": (v100(bw="eight"), "QSIM_ERR_PARSE", "conv1.weight: 'bw' must be an integer 2..32, got \"eight\""),
 "bw_33": (v100(bw=33), "QSIM_ERR_PARSE", "'bw' must be an integer 2..32, got 33"),
 "bw_real": (v100(bw=8.0), "QSIM_ERR_PARSE", "'bw' must be an integer 2..32, got 8"),
 "float_bw_8": (v100(dtype="FLOAT", bw=8), "QSIM_ERR_PARSE", "'bw' must be an integer 16 or 32 for FLOAT, got 8"),
 "scale_negative": (v100(scale=[-1.0]), "QSIM_ERR_PARSE", "conv1.weight: scale[0] must be a positive finite number"),
 "scale_zero": (v100(scale=[0.0]), "QSIM_ERR_PARSE", "scale[0] must be a positive finite number, got 0"),
 "scale_huge": ("raw", json.dumps(v100()).replace('[0.5]', '[1e400]'), "QSIM_ERR_PARSE", "real number overflow"),
 "length_mismatch": (v100(enc_type="PER_CHANNEL", scale=[0.1, 0.2], offset=[-128.0]), "QSIM_ERR_PARSE", "'scale' has 2 elements but 'offset' has 1"),
 "per_tensor_two_scales": (v100(scale=[0.1, 0.2], offset=[-128.0, -128.0]), "QSIM_ERR_PARSE", "PER_TENSOR needs 1 scale, got 2"),
 "scale_not_list": (v100(scale=0.5), "QSIM_ERR_PARSE", "'scale' must be a list of numbers, got 0.5"),
 "scale_element_string": (v100(scale=["0.5"]), "QSIM_ERR_PARSE", "'scale'[0] must be a number, got \"0.5\""),
 "unknown_dtype_100": (v100(dtype="INT8"), "QSIM_ERR_PARSE", "'dtype' must be \"INT\" or \"FLOAT\", got \"INT8\""),
 "unknown_enc_type": (v100(enc_type="PER_LAYER"), "QSIM_ERR_PARSE", "'enc_type' must be"),
 "is_sym_string_100": (v100(is_sym="True"), "QSIM_ERR_PARSE", "'is_sym' must be true or false, got \"True\""),
 "offset_non_integral_100": (v100(offset=[-1.5]), "QSIM_ERR_PARSE", "'offset'[0] must be an integral number, got -1.5"),
 "offset_out_of_range_100": (v100(offset=[-256.0]), "QSIM_ERR_PARSE", "offset[0] must be in [-255, 0] for 8 bits, got -256"),
 "missing_name_100": (v100(name=None), "QSIM_ERR_PARSE", "param_encodings[0]: 'name' must be a string, got nothing"),
 "empty_name_100": (v100(name=""), "QSIM_ERR_PARSE", "empty tensor name"),
 "per_block": (v100(enc_type="PER_BLOCK", block_size=32), "QSIM_ERR_UNSUPPORTED", "conv1.weight: enc_type PER_BLOCK"),
 "lpbq": (v100(enc_type="LPBQ", compressed_bw=4), "QSIM_ERR_UNSUPPORTED", "conv1.weight: enc_type LPBQ"),
 "block_size_per_channel": (v100(block_size=64), "QSIM_ERR_UNSUPPORTED", "'block_size'"),
 "section_not_list_100": ({"version": "1.0.0", "activation_encodings": {}, "param_encodings": []}, "QSIM_ERR_PARSE", "'activation_encodings' must be a list, got object"),
 "unknown_dtype_061": (v061([e061(dtype="integer")]), "QSIM_ERR_PARSE", "conv1.weight: [0] 'dtype' must be \"int\" or \"float\", got \"integer\""),
 "is_symmetric_bool_061": (v061([e061(is_symmetric=True)]), "QSIM_ERR_PARSE", "[0] 'is_symmetric' must be the string \"True\" or \"False\", got true"),
 "bitwidth_missing_061": (v061([e061(bitwidth=None)]), "QSIM_ERR_PARSE", "[0] 'bitwidth' must be an integer 2..32, got nothing"),
 "float_bitwidth_8_061": (v061([{"bitwidth": 8, "dtype": "float"}]), "QSIM_ERR_PARSE", "'bitwidth' must be an integer 16 or 32 for float, got 8"),
 "scale_string_061": (v061([e061(scale="0.1")]), "QSIM_ERR_PARSE", "[0] 'scale' must be a number, got \"0.1\""),
 "offset_positive_061": (v061([e061(offset=5)]), "QSIM_ERR_PARSE", "offset[0] must be in [-255, 0] for 8 bits, got 5"),
 "min_only_061": (v061([e061(max=None)]), "QSIM_ERR_PARSE", "'min' and 'max' must both be numbers"),
 "minmax_some_channels_061": (v061([e061(), e061(min=None, max=None)]), "QSIM_ERR_PARSE", "[1] 'min'/'max' present on some channels only"),
 "name_too_long": (v061([e061()], name="n" * 5000), "QSIM_ERR_PARSE", "tensor name longer than 4096 bytes"),
 "quantizer_args_list": ({"version": "1.0.0", "activation_encodings": [], "param_encodings": [], "quantizer_args": []}, "QSIM_ERR_PARSE", "'quantizer_args' must be an object, got array"),
 "min_greater_max_061": (v061([e061(min=1.0, max=-1.0)]), "QSIM_ERR_PARSE", "min <= max"),
 "channels_differ_061": (v061([e061(), e061(bitwidth=4)]), "QSIM_ERR_PARSE", "[1] 'dtype'/'bitwidth' differ from channel 0"),
 "symmetry_differs_061": (v061([e061(), e061(is_symmetric="False")]), "QSIM_ERR_PARSE", "[1] 'is_symmetric' differs from channel 0"),
 "empty_channel_list_061": (v061([]), "QSIM_ERR_PARSE", "conv1.weight: empty list of encodings"),
 "entry_not_list_061": (v061({"a": 1}), "QSIM_ERR_PARSE", "conv1.weight: must be a list of per-channel entries, got object"),
 "section_not_object_061": ({"version": "0.6.1", "activation_encodings": [], "param_encodings": {}}, "QSIM_ERR_PARSE", "'activation_encodings' must be an object, got array"),
 "param_only_061_not_list": ({"conv1.weight": [I8S], "bad": 5}, "QSIM_ERR_PARSE", "\"bad\" is not a list (got 5)"),
 "unknown_version": ({"version": "3.0.0", "encodings": []}, "QSIM_ERR_UNSUPPORTED", "encodings version \"3.0.0\" is not supported"),
 "version_number": ({"version": 1.0, "param_encodings": []}, "QSIM_ERR_PARSE", "'version' must be a string, got 1"),
 "unknown_top_key": ({"version": "1.0.0", "activation_encodings": [], "param_encoding": []}, "QSIM_ERR_PARSE", "unknown top-level key \"param_encoding\""),
 "no_sections": ({"version": "1.0.0"}, "QSIM_ERR_PARSE", "needs 'activation_encodings' and/or 'param_encodings'"),
 "toplevel_string": ("raw", '"hello"', "QSIM_ERR_PARSE", "'[' or '{' expected"),
 "quantizer_args_bad": ({"version": "0.6.1", "activation_encodings": {}, "param_encodings": {}, "quantizer_args": {"param_bitwidth": "8"}}, "QSIM_ERR_PARSE", "quantizer_args: 'param_bitwidth' must be an integer 1..32, got \"8\""),
 "producer_bad": (dict(v200(), producer="aimet"), "QSIM_ERR_PARSE", "'producer' must be an object"),
 "missing_encodings_200": ({"version": "2.0.0"}, "QSIM_ERR_PARSE", "needs an 'encodings' list"),
 "block_size_200": (v200({"name": "w", "output_dtype": "int4", "y_scale": [[0.1, 0.2]], "axis": 0, "block_size": 16}), "QSIM_ERR_UNSUPPORTED", "w: 'block_size' (blockwise/LPBQ quantization) is not supported"),
 "nested_scale_200": (v200({"name": "w", "output_dtype": "int4", "y_scale": [[0.1, 0.2]], "axis": 0}), "QSIM_ERR_UNSUPPORTED", "w: nested 'y_scale'"),
 "lpbq_200": (v200({"name": "w", "output_dtype": "int4", "per_block_int_scale": [[1]], "per_channel_float_scale": [0.1], "axis": 0}), "QSIM_ERR_UNSUPPORTED", "w: 'per_block_int_scale'"),
 "float8_200": (v200({"name": "w", "output_dtype": "float8e4m3fn", "y_scale": 0.1}), "QSIM_ERR_UNSUPPORTED", "w: output_dtype \"float8e4m3fn\" is not supported"),
 "bad_dtype_200": (v200({"name": "w", "output_dtype": "qint8", "y_scale": 0.1}), "QSIM_ERR_PARSE", "w: 'output_dtype' must be int<N> or uint<N>, got \"qint8\""),
 "int99_200": (v200({"name": "w", "output_dtype": "int99", "y_scale": 0.1}), "QSIM_ERR_PARSE", "'output_dtype' int99: bitwidth must be 2..32"),
 "zp_range_200": (v200({"name": "x", "output_dtype": "uint8", "y_scale": 0.1, "y_zero_point": 300}), "QSIM_ERR_PARSE", "x: 'y_zero_point'[0] must be an integer 0..255 for uint8, got 300"),
 "zp_shape_200": (v200({"name": "w", "output_dtype": "int8", "y_scale": [0.1, 0.2], "y_zero_point": 0, "axis": 0}), "QSIM_ERR_PARSE", "'y_zero_point' must have the shape of 'y_scale' (2 elements)"),
 "axis_negative_200": (v200({"name": "w", "output_dtype": "int8", "y_scale": [0.1], "axis": -1}), "QSIM_ERR_PARSE", "w: 'axis' must be an integer 0..7, got -1"),
 "missing_scale_200": (v200({"name": "w", "output_dtype": "int8"}), "QSIM_ERR_PARSE", "w: 'y_scale' must be a number or a list, got nothing"),
 "missing_name_200": (v200({"output_dtype": "int8", "y_scale": 0.1}), "QSIM_ERR_PARSE", "encodings[0]: 'name' must be a string"),
}
valid = {
 "spec_061_full": ({"version": "0.6.1", "activation_encodings": {"input": [I8A], "bn1_out": [{"bitwidth": 16, "dtype": "float"}]}, "param_encodings": {"conv1.weight": [I8S]}, "quantizer_args": {"activation_bitwidth": 8, "dtype": "int", "is_symmetric": True, "param_bitwidth": 8, "per_channel_quantization": False, "quant_scheme": "post_training_tf_enhanced"}}, "0.6.1", 0, 3),
 "061_param_only": ({"conv1.weight": [I8S, dict(I8S, scale=0.004)], "fc.weight": [I8S]}, "0.6.1", 1, 2),
 "061_empty_dict": ({}, "0.6.1", 1, 0),
 "061_no_dtype_no_minmax": (v061([e061(dtype=None, min=None, max=None)]), "0.6.1", 0, 1),
 "061_string_qargs": ({"version": "0.6.1", "activation_encodings": {}, "param_encodings": {}, "quantizer_args": {"is_symmetric": "True", "per_channel_quantization": "False"}}, "0.6.1", 0, 0),
 "061_param_only_tensor_named_version": ({"version": [I8S], "conv1.weight": [I8S]}, "0.6.1", 1, 2),
 "061_float_qargs": ({"version": "0.6.1", "activation_encodings": {}, "param_encodings": {}, "quantizer_args": {"dtype": "float", "activation_bitwidth": 16, "param_bitwidth": 16}}, "0.6.1", 0, 0),
 "061_only_params_section": ({"version": "0.6.1", "param_encodings": {"w": [I8S]}}, "0.6.1", 0, 1),
 "100_param_only": ([E100, dict(E100, name="fc.weight", enc_type="PER_CHANNEL", scale=[0.1, 0.2], offset=[-128, -127])], "1.0.0", 1, 2),
 "100_empty_list": ([], "1.0.0", 1, 0),
 "100_float_per_channel_aimet_a": ({"version": "1.0.0", "activation_encodings": [{"name": "bn", "enc_type": "PER_CHANNEL", "dtype": "FLOAT", "bw": 16}], "param_encodings": []}, "1.0.0", 0, 1),
 "100_with_producer": ({"version": "1.0.0", "producer": {"package": "aimet-onnx", "version": "2.9"}, "activation_encodings": [], "param_encodings": [E100]}, "1.0.0", 0, 1),
 "100_int32_bias": ({"version": "1.0.0", "activation_encodings": [], "param_encodings": [dict(E100, name="b", bw=32, scale=[1e-9], offset=[-2147483648.0])]}, "1.0.0", 0, 1),
 "200_param_only_list": ([{"name": "w", "output_dtype": "int8", "y_scale": [0.1, 0.2], "axis": 0}], "2.0.0", 1, 1),
 "200_strict_and_uint4": (v200({"name": "w", "output_dtype": "int8", "y_scale": 0.1, "y_zero_point": -1}, {"name": "x", "output_dtype": "uint4", "y_scale": 0.5, "y_zero_point": 15}), "2.0.0", 0, 2),
 "200_float16_entry": (v200({"name": "bn", "output_dtype": "float16"}), "2.0.0", 0, 1),
 "200_empty": (v200(), "2.0.0", 0, 0),
}
for name, spec in invalid.items():
    d = os.path.join(root, "invalid", name); os.makedirs(d, exist_ok=True)
    if spec[0] == "raw":
        _, text, st, msg = spec
    else:
        obj, st, msg = spec
        text = json.dumps(obj, indent=1)
    open(os.path.join(d, "input.json"), "w").write(text)
    open(os.path.join(d, "error"), "w").write(st + "\n" + msg + "\n")
for name, (obj, ver, po, n) in valid.items():
    d = os.path.join(root, "valid", name); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "input.json"), "w").write(json.dumps(obj, indent=1))
    open(os.path.join(d, "expected"), "w").write("version=%s param_only=%d count=%d\n" % (ver, po, n))
print("encodings:", len(invalid), "invalid,", len(valid), "valid")

# ---- quantsim config cases ----
root = sys.argv[1] + "/tests/data/config"
BASE = {"defaults": {"ops": {"is_output_quantized": "True"}, "params": {"is_quantized": "True", "is_symmetric": "True"}},
        "params": {}, "op_type": {}, "supergroups": [], "model_input": {}, "model_output": {}}
def cfg(path=None, value=None, delete=None):
    c = copy.deepcopy(BASE)
    if delete:
        d = c
        for k in delete[:-1]: d = d[k]
        del d[delete[-1]]
    if path:
        d = c
        for k in path[:-1]: d = d.setdefault(k, {})
        d[path[-1]] = value
    return c
K8 = {"activation": {"bitwidth": 8, "dtype": "int"}, "param": {"bitwidth": 8, "dtype": "int"}}
FULL = {
 "defaults": {"ops": {"is_output_quantized": "True", "is_symmetric": "False"},
              "params": {"is_quantized": "True", "is_symmetric": "True"},
              "strict_symmetric": "False", "unsigned_symmetric": "True", "per_channel_quantization": "True",
              "hw_version": "V73",
              "supported_kernels": [K8, {"activation": {"bitwidth": 16, "dtype": "float"}, "param": {"bitwidth": 16, "dtype": "float"}}]},
 "params": {"bias": {"is_quantized": "False"}, "weight": {"is_quantized": "True", "is_symmetric": "True"}},
 "op_type": {
   "Conv": {"per_channel_quantization": "True", "params": {"bias": {"is_quantized": "True", "is_symmetric": "False"}},
            "supported_kernels": [{"activation": {"bitwidth": 16, "dtype": "int"}, "param": {"bitwidth": 8.0, "dtype": "int"}}]},
   "Softmax": {"encoding_constraints": {"min": 0.0, "max": 1}},
   "Concat": {"is_input_quantized": "True", "is_output_quantized": "False", "is_symmetric": "True"},
   "Gemm": {"per_channel_quantization": "False"}},
 "supergroups": [{"op_list": ["Conv", "Relu"]}, {"op_list": ["Conv", "BatchNormalization", "Relu"]}],
 "model_input": {"is_input_quantized": "True"},
 "model_output": {"is_output_quantized": "True"}}
invalid = {
 "syntax_error": ("raw", '{\n "defaults": {,\n}', "QSIM_ERR_PARSE", "line 2, column"),
 "duplicate_key": ("raw", '{"defaults": {}, "defaults": {}}', "QSIM_ERR_PARSE", "duplicate object key"),
 "toplevel_list": ("raw", '[]', "QSIM_ERR_PARSE", "<top level>: must be an object, got array"),
 "missing_model_output": (cfg(delete=["model_output"]), "QSIM_ERR_PARSE", "required key \"model_output\" is missing"),
 "missing_defaults": (cfg(delete=["defaults"]), "QSIM_ERR_PARSE", "required key \"defaults\" is missing"),
 "extra_top_key": (cfg(["op_types"], {}), "QSIM_ERR_PARSE", "<top level>: unknown key \"op_types\""),
 "json_true": (cfg(["defaults", "params", "is_symmetric"], True), "QSIM_ERR_PARSE", "defaults.params.is_symmetric: must be the string \"True\" (AIMET's config writes booleans as strings), not the JSON literal true"),
 "json_false_op": (cfg(["op_type", "Conv", "is_output_quantized"], False), "QSIM_ERR_PARSE", "op_type.Conv.is_output_quantized: must be the string \"False\""),
 "bad_bool_string": (cfg(["defaults", "strict_symmetric"], "yes"), "QSIM_ERR_PARSE", "defaults.strict_symmetric: must be the string \"True\" or \"False\", got \"yes\""),
 "lowercase_bool": (cfg(["defaults", "per_channel_quantization"], "true"), "QSIM_ERR_PARSE", "got \"true\""),
 "defaults_input_quantized": (cfg(["defaults", "ops", "is_input_quantized"], "True"), "QSIM_ERR_UNSUPPORTED", "defaults.ops.is_input_quantized: is not supported in defaults"),
 "defaults_output_false": (cfg(["defaults", "ops", "is_output_quantized"], "False"), "QSIM_ERR_UNSUPPORTED", "defaults.ops.is_output_quantized: \"False\" is not supported"),
 "op_input_false": (cfg(["op_type", "Conv", "is_input_quantized"], "False"), "QSIM_ERR_UNSUPPORTED", "op_type.Conv.is_input_quantized: \"False\" is not supported"),
 "model_input_false": (cfg(["model_input", "is_input_quantized"], "False"), "QSIM_ERR_UNSUPPORTED", "model_input.is_input_quantized: \"False\" is not supported"),
 "model_output_false": (cfg(["model_output", "is_output_quantized"], "False"), "QSIM_ERR_UNSUPPORTED", "model_output.is_output_quantized: \"False\" is not supported"),
 "model_input_extra": (cfg(["model_input", "is_quantized"], "True"), "QSIM_ERR_PARSE", "model_input: unknown key \"is_quantized\" (allowed: is_input_quantized)"),
 "defaults_missing_params": (cfg(delete=["defaults", "params"]), "QSIM_ERR_PARSE", "defaults: needs both 'ops' and 'params'"),
 "defaults_extra": (cfg(["defaults", "per_channel"], "True"), "QSIM_ERR_PARSE", "defaults: unknown key \"per_channel\""),
 "defaults_ops_extra": (cfg(["defaults", "ops", "is_quantized"], "True"), "QSIM_ERR_PARSE", "defaults.ops: unknown key \"is_quantized\""),
 "hw_version_number": (cfg(["defaults", "hw_version"], 73), "QSIM_ERR_PARSE", "defaults.hw_version: must be a string, got 73"),
 "supergroup_one_op": (cfg(["supergroups"], [{"op_list": ["Conv"]}]), "QSIM_ERR_PARSE", "supergroups[0].op_list: must be a list of at least 2 op types"),
 "supergroup_extra_key": (cfg(["supergroups"], [{"op_list": ["Conv", "Relu"], "name": "x"}]), "QSIM_ERR_PARSE", "supergroups[0]: unknown key \"name\""),
 "supergroup_non_string": (cfg(["supergroups"], [{"op_list": ["Conv", 5]}]), "QSIM_ERR_PARSE", "supergroups[0].op_list[1]: must be a string, got 5"),
 "supergroups_object": (cfg(["supergroups"], {}), "QSIM_ERR_PARSE", "supergroups: must be a list, got object"),
 "kernel_bw_12": (cfg(["defaults", "supported_kernels"], [{"activation": {"bitwidth": 12, "dtype": "int"}, "param": {"bitwidth": 8, "dtype": "int"}}]), "QSIM_ERR_PARSE", "defaults.supported_kernels[0].activation.bitwidth: must be 4, 8, 16 or 32, got 12"),
 "kernel_float_8": (cfg(["op_type", "Conv", "supported_kernels"], [{"activation": {"bitwidth": 8, "dtype": "float"}, "param": {"bitwidth": 8, "dtype": "int"}}]), "QSIM_ERR_PARSE", "op_type.Conv.supported_kernels[0].activation: a float kernel needs bitwidth 16 or 32, got 8"),
 "kernel_missing_param": (cfg(["defaults", "supported_kernels"], [{"activation": {"bitwidth": 8, "dtype": "int"}}]), "QSIM_ERR_PARSE", "defaults.supported_kernels[0]: needs both 'activation' and 'param'"),
 "kernel_dtype": (cfg(["defaults", "supported_kernels"], [{"activation": {"bitwidth": 8, "dtype": "int8"}, "param": {"bitwidth": 8, "dtype": "int"}}]), "QSIM_ERR_PARSE", "activation.dtype: must be \"int\" or \"float\", got \"int8\""),
 "kernels_empty": (cfg(["defaults", "supported_kernels"], []), "QSIM_ERR_PARSE", "defaults.supported_kernels: must be a non-empty list"),
 "op_unknown_key": (cfg(["op_type", "Conv", "is_quantized"], "True"), "QSIM_ERR_PARSE", "op_type.Conv: unknown key \"is_quantized\""),
 "op_not_object": (cfg(["op_type", "Conv"], "True"), "QSIM_ERR_PARSE", "op_type.Conv: must be an object, got \"True\""),
 "op_params_unknown_key": (cfg(["op_type", "Conv", "params"], {"weight": {"bitwidth": 8}}), "QSIM_ERR_PARSE", "op_type.Conv.params.weight: unknown key \"bitwidth\""),
 "params_not_object": (cfg(["params", "bias"], []), "QSIM_ERR_PARSE", "params.bias: must be an object, got array"),
 "params_json_bool": (cfg(["params", "bias"], {"is_quantized": False}), "QSIM_ERR_PARSE", "params.bias.is_quantized: must be the string \"False\""),
 "constraints_min_ge_max": (cfg(["op_type", "Softmax", "encoding_constraints"], {"min": 1.0, "max": 0.0}), "QSIM_ERR_PARSE", "op_type.Softmax.encoding_constraints: needs min < max, got 1 and 0"),
 "constraints_string": (cfg(["op_type", "Softmax", "encoding_constraints"], {"min": "0", "max": 1}), "QSIM_ERR_PARSE", "needs numbers 'min' and 'max', got \"0\" and 1"),
 "constraints_extra": (cfg(["op_type", "Softmax", "encoding_constraints"], {"min": 0, "max": 1, "bw": 8}), "QSIM_ERR_PARSE", "encoding_constraints: unknown key \"bw\""),
}
valid = {
 "minimal": (BASE, "ops=0 params=0 supergroups=0 kernels=0"),
 "full": (FULL, "ops=4 params=2 supergroups=2 kernels=2"),
}
for name, spec in invalid.items():
    d = os.path.join(root, "invalid", name); os.makedirs(d, exist_ok=True)
    if spec[0] == "raw":
        _, text, st, msg = spec
    else:
        obj, st, msg = spec
        text = json.dumps(obj, indent=4)
    open(os.path.join(d, "input.json"), "w").write(text)
    open(os.path.join(d, "error"), "w").write(st + "\n" + msg + "\n")
for name, (obj, exp) in valid.items():
    d = os.path.join(root, "valid", name); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "input.json"), "w").write(json.dumps(obj, indent=4))
    open(os.path.join(d, "expected"), "w").write(exp + "\n")
print("config:", len(invalid), "invalid,", len(valid), "valid")
