#!/usr/bin/env node
// ort_run.js - runs one ONNX model with one float32 input through
// onnxruntime-node (CPU) and writes its first float32 output (raw bytes).
// Usage: NODE_PATH=/opt/ort/node_modules node ort_run.js MODEL IN.bin DIMS OUT.bin [OPT]
// DIMS: comma-separated input shape; OPT: graph optimization level
// ("disabled" by default, so Q/DQ nodes run as written, not fused).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inPath, dimsArg, outPath, opt] = process.argv.slice(2);
  const s = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: opt || 'disabled', intraOpNumThreads: 1, logSeverityLevel: 3});
  const raw = fs.readFileSync(inPath);
  const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const dims = dimsArg.split(',').map(Number);
  const r = await s.run({[s.inputNames[0]]: new ort.Tensor('float32', data, dims)});
  const t = r[s.outputNames[0]];
  if (t.type !== 'float32') throw new Error('output is ' + t.type);
  fs.writeFileSync(outPath, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

main().catch((e) => { console.error(e); process.exit(1); });
