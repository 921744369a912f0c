// FP32 top-1 accuracy of a demo ONNX model on the Fashion-MNIST test set, as run by
// onnxruntime-node: the independent reference for the C side.
//
//   NODE_PATH=/opt/ort/node_modules node tools/ort_eval.js data/fmnist_cnn.onnx \
//       [--data-dir /usr/share/datasets/fashion-mnist] [--limit N] [--dump-logits out.f32]
//
// Preprocessing is the demo's (tools/train_demo.py): x = (p / 255 - 0.2860) / 0.3530,
// computed in float32 (Math.fround after each step), NCHW [N,1,28,28].
// Graph optimizations are disabled so onnxruntime runs the unfused float graph.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

const MEAN = Math.fround(0.2860);
const STD = Math.fround(0.3530);

function readIdx(file, wantNdim) {
  let buf = fs.readFileSync(file);
  if (file.endsWith('.gz')) buf = zlib.gunzipSync(buf);
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08 || buf[3] !== wantNdim)
    throw new Error(`${file}: not a u8 IDX file with ${wantNdim} dims`);
  const dims = [];
  for (let i = 0; i < wantNdim; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const off = 4 + 4 * wantNdim;
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length - off !== count) throw new Error(`${file}: size does not match header`);
  return { dims, data: buf.subarray(off) };
}

async function main() {
  const args = process.argv.slice(2);
  let model = null, dataDir = '/usr/share/datasets/fashion-mnist', limit = Infinity, dump = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--data-dir') dataDir = args[++i];
    else if (args[i] === '--limit') limit = parseInt(args[++i], 10);
    else if (args[i] === '--dump-logits') dump = args[++i];
    else model = args[i];
  }
  if (!model) throw new Error('usage: ort_eval.js MODEL.onnx [--data-dir D] [--limit N] [--dump-logits F]');
  const images = readIdx(path.join(dataDir, 't10k-images-idx3-ubyte.gz'), 3);
  const labels = readIdx(path.join(dataDir, 't10k-labels-idx1-ubyte.gz'), 1);
  const n = Math.min(images.dims[0], labels.dims[0], limit);
  const hw = images.dims[1] * images.dims[2];

  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, interOpNumThreads: 1 });
  const inName = session.inputNames[0], outName = session.outputNames[0];
  const logitsAll = dump ? new Float32Array(n * 10) : null;
  let correct = 0;
  const batch = 500;
  for (let s = 0; s < n; s += batch) {
    const b = Math.min(batch, n - s);
    const x = new Float32Array(b * hw);
    for (let i = 0; i < b * hw; i++) {
      const v = Math.fround(images.data[s * hw + i] / 255);
      x[i] = Math.fround(Math.fround(v - MEAN) / STD);
    }
    const feeds = { [inName]: new ort.Tensor('float32', x, [b, 1, images.dims[1], images.dims[2]]) };
    const out = (await session.run(feeds))[outName];
    const c = out.dims[1];
    for (let i = 0; i < b; i++) {
      let best = 0;
      for (let k = 1; k < c; k++) if (out.data[i * c + k] > out.data[i * c + best]) best = k;
      if (best === labels.data[s + i]) correct++;
    }
    if (logitsAll) logitsAll.set(out.data, s * c);
  }
  if (dump) fs.writeFileSync(dump, Buffer.from(logitsAll.buffer));
  console.log(`onnxruntime-node ${ort.env.versions ? ort.env.versions.common : ''} ${path.basename(model)}: ` +
              `FP32 top-1 ${(correct / n).toFixed(4)} (${correct}/${n})`);
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
