#!/usr/bin/env node
// ort_eval.js - runs single-node ONNX models through onnxruntime-node (CPU,
// graph optimizations off) for gen_op_cases.py.
// Usage: NODE_PATH=/opt/ort/node_modules node ort_eval.js IN.json OUT.json
// IN: [{"model": path, "feeds": {name: {"type": t, "dims": [...], "b64": ...}}}]
// OUT: [[{"type": t, "dims": [...], "b64": ...}, ...]] (outputs in model order)
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

const ARR = {float32: Float32Array, int64: BigInt64Array, uint8: Uint8Array, int8: Int8Array,
             int16: Int16Array, uint16: Uint16Array, int32: Int32Array};

async function main() {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const results = [];
  for (const job of jobs) {
    const s = await ort.InferenceSession.create(job.model, {graphOptimizationLevel: 'disabled',
                                                            intraOpNumThreads: 1,
                                                            logSeverityLevel: 3});
    const feeds = {};
    for (const [name, f] of Object.entries(job.feeds)) {
      const raw = Buffer.from(f.b64, 'base64');
      const ab = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
      feeds[name] = new ort.Tensor(f.type, new ARR[f.type](ab), f.dims);
    }
    const r = await s.run(feeds);
    results.push(s.outputNames.map((n) => {
      const t = r[n];
      const d = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      return {type: t.type, dims: t.dims, b64: d.toString('base64')};
    }));
  }
  fs.writeFileSync(process.argv[3], JSON.stringify(results));
}

main().catch((e) => { console.error(e); process.exit(1); });
