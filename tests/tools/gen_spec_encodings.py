#!/usr/bin/python3
"""Writes the encodings examples of SPEC.md sections 5.2-5.4 and 8.5 the way
AIMET does (json.dump, sort_keys=True, indent=4), so the C parser is tested
on files produced by Python's json module rather than by libqsim.

usage: gen_spec_encodings.py OUTDIR
"""
import json
import os
import sys


def dump(outdir, name, obj):
    with open(os.path.join(outdir, name), "w") as f:
        json.dump(obj, f, sort_keys=True, indent=4)


QARGS = {"activation_bitwidth": 8, "dtype": "int", "is_symmetric": True,
         "param_bitwidth": 8, "per_channel_quantization": False,
         "quant_scheme": "post_training_tf_enhanced"}

INPUT_061 = [{"bitwidth": 8, "dtype": "int", "is_symmetric": "False",
              "max": 2.996078431, "min": -1.003921569, "offset": -64,
              "scale": 0.015686275}]
CONV1_061 = [{"bitwidth": 8, "dtype": "int", "is_symmetric": "True",
              "max": 0.5, "min": -0.503937008, "offset": -128,
              "scale": 0.003937008}]

SPEC_061 = {
    "version": "0.6.1",
    "activation_encodings": {
        "input": INPUT_061,
        "bn1_out": [{"bitwidth": 16, "dtype": "float"}],
    },
    "param_encodings": {"conv1.weight": CONV1_061},
    "quantizer_args": QARGS,
}

SPEC_100 = {
    "version": "1.0.0",
    "activation_encodings": [
        {"name": "input", "enc_type": "PER_TENSOR", "dtype": "INT", "bw": 8,
         "is_sym": False, "scale": [0.015686275], "offset": [-64.0]},
        {"name": "bn1_out", "enc_type": "PER_TENSOR", "dtype": "FLOAT", "bw": 16},
    ],
    "param_encodings": [
        {"name": "conv1.weight", "enc_type": "PER_CHANNEL", "dtype": "INT", "bw": 4,
         "is_sym": True, "scale": [0.071, 0.052], "offset": [-8.0, -8.0]},
    ],
    "quantizer_args": QARGS,
}

SPEC_200 = {
    "producer": {"package": "aimet-onnx", "version": "2.x"},
    "version": "2.0.0",
    "encodings": [
        {"name": "input", "output_dtype": "uint8", "y_scale": 0.015686275, "y_zero_point": 64},
        {"name": "conv1.weight", "output_dtype": "int8", "y_scale": [0.0039, 0.0041], "axis": 0},
        {"name": "conv1.bias", "output_dtype": "int32", "y_scale": [6.1e-05, 6.4e-05], "axis": 0},
    ],
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    dump(out, "spec_061.encodings", SPEC_061)
    dump(out, "spec_100.encodings", SPEC_100)
    dump(out, "spec_200.encodings", SPEC_200)
    # AdaRound's param-only files (SPEC 8.5): no version, no quantizer_args
    dump(out, "adaround_061.encodings", SPEC_061["param_encodings"])
    dump(out, "adaround_100.encodings", SPEC_100["param_encodings"])
    dump(out, "adaround_200.encodings", SPEC_200["encodings"])


if __name__ == "__main__":
    main()
