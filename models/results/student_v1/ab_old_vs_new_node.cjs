// node models/results/student_v1/ab_old_vs_new_node.cjs <old student dir> <new student dir>   (the script behind bench_student_demo_fastgraph.txt)
// Same-process A/B in onnxruntime-node (the server's runtime, session options as renderWorker.mjs): old vs new student files,
// alternating blocks of 200 frames, 4 rounds; driving frames = neutral + sway + mouth (as bench:student).
const ort = require('onnxruntime-node');
const fs = require('fs'); const os = require('os');
const [oldDir, newDir] = process.argv.slice(2);
const man = JSON.parse(fs.readFileSync(newDir + '/manifest.json', 'utf8'));
const neutral = man.identity.neutralLandmarks;
const inputs = [];
for (let t = 0; t < 64; t++) { const a = new Float32Array(neutral); const dx = 0.01 * Math.sin(t / 7), dy = 0.006 * Math.sin(t / 11);
  for (let i = 0; i < 478; i++) { a[i * 3] += dx; a[i * 3 + 1] += dy; } a[14 * 3 + 1] += 0.015 * Math.max(0, Math.sin(t / 5)); inputs.push(a); }
(async () => {
  const files = { 'old int8': oldDir + '/student.int8.onnx', 'new int8': newDir + '/student.int8.onnx', 'old float': oldDir + '/student.onnx', 'new float': newDir + '/student.onnx' };
  const s = {}, ms = {};
  for (const [k, f] of Object.entries(files)) { s[k] = await ort.InferenceSession.create(f, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }); ms[k] = [];
    for (let i = 0; i < 10; i++) await s[k].run({ landmarks: new ort.Tensor('float32', inputs[i], [1, 478, 3]) }); }
  const load0 = os.loadavg()[0];
  for (let r = 0; r < 4; r++) for (const k of Object.keys(files)) for (let i = 0; i < 200; i++) {
    const feed = { landmarks: new ort.Tensor('float32', inputs[i % 64], [1, 478, 3]) }; const t0 = performance.now(); await s[k].run(feed); ms[k].push(performance.now() - t0); }
  const p = (v, q) => { const a = [...v].sort((x, y) => x - y); return a[Math.round(q * (a.length - 1))]; };
  console.log(`load1 ${load0.toFixed(2)} -> ${os.loadavg()[0].toFixed(2)}; 4 rounds x 200 frames each, alternating, 1 thread`);
  for (const k of Object.keys(files)) console.log(`${k.padEnd(10)} p50 ${p(ms[k], .5).toFixed(2)} ms  p95 ${p(ms[k], .95).toFixed(2)} ms`);
  console.log(`int8: new/old p50 = ${(p(ms['new int8'], .5) / p(ms['old int8'], .5)).toFixed(3)}; float: new/old = ${(p(ms['new float'], .5) / p(ms['old float'], .5)).toFixed(3)}`);
})();
