// Render worker thread: owns one onnxruntime InferenceSession (one identity's student) and runs
// it off the main event loop. Plain JavaScript so it starts the same under tsx, vitest and node.
// Protocol (StudentModel.ts): load → loaded | loadError; run → result | runError; crash (tests)
// exits the thread with code 70; dispose releases the session and exits 0.
// Runs: one at a time (onnxruntime-node's run() blocks this thread for the whole inference, so a
// second run in flight would gain nothing), on one pre-allocated input/output tensor pair; further
// requests wait in arrival order. More cores for one model = more of these workers (StudentModel).
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { modelPath, inputName, outputName, executionProvider, intraOpThreads, interOpThreads, landmarkFloats, outputBytes } =
  workerData;

let session;
/** The pre-allocated input/output tensor pair every run uses (runs never overlap). */
let slot;
/** Run requests in arrival order; `draining` while one is being worked through. */
const waiting = [];
let draining = false;
let outputPreallocated = true;

async function load() {
  const providers = executionProvider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];
  session = await ort.InferenceSession.create(modelPath, {
    executionProviders: providers,
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: interOpThreads,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // No spin-waiting: onnxruntime's pool threads otherwise busy-wait between ops and runs, which
    // on a shared box takes cores from ffmpeg, mediasoup and the other sessions. Measured with 2
    // intra-op threads on this 2-core machine: 41 → 25 ms CPU per inference (wall p50 58 → 47 ms);
    // with 1 thread (the default) there is no pool and nothing changes (19.4 vs 19.6 ms CPU).
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  if (!session.inputNames.includes(inputName)) throw new Error(`model has no input "${inputName}" (inputs: ${session.inputNames.join(', ')})`);
  if (!session.outputNames.includes(outputName)) throw new Error(`model has no output "${outputName}" (outputs: ${session.outputNames.join(', ')})`);
  // Pre-allocated tensors: the input is refilled per frame; the output is written in place.
  const side = Math.round(Math.sqrt(outputBytes / 3));
  slot = {
    input: new ort.Tensor('float32', new Float32Array(landmarkFloats), [1, landmarkFloats / 3, 3]),
    output: new ort.Tensor('uint8', new Uint8Array(outputBytes), [1, side, side, 3]),
  };
}

/** Runs the model on the tensor pair; resolves with the output values (valid until the next run). */
async function infer(landmarks) {
  const { input, output } = slot;
  input.data.set(landmarks);
  if (outputPreallocated) {
    try {
      await session.run({ [inputName]: input }, { [outputName]: output });
      return output.data;
    } catch (error) {
      // Any other failure is this run's alone: keep the pre-allocated output for the next runs.
      if (!String(error).match(/output|fetch|preallocat|shape|type/i)) throw error;
      // A runtime that refuses pre-allocated outputs: allocate per run from then on.
      outputPreallocated = false;
    }
  }
  const result = await session.run({ [inputName]: input });
  const frame = result[outputName];
  if (frame.type !== 'uint8' || frame.data.length !== outputBytes) {
    throw new Error(`output "${outputName}" is ${frame.type}[${frame.dims.join(',')}], expected uint8 with ${outputBytes} values`);
  }
  return frame.data;
}

/** Works through the waiting runs one at a time, in arrival order. */
async function drain() {
  if (draining) return;
  draining = true;
  while (waiting.length > 0) {
    const message = waiting.shift();
    try {
      const started = performance.now();
      const data = await infer(message.landmarks);
      const inferenceMs = performance.now() - started;
      // Copy out of the reused output tensor and hand the copy over without another copy.
      const frame = new Uint8Array(data);
      parentPort.postMessage({ type: 'result', id: message.id, frame, inferenceMs }, [frame.buffer]);
    } catch (error) {
      parentPort.postMessage({ type: 'runError', id: message.id, message: error instanceof Error ? error.message : String(error) });
    }
  }
  draining = false;
}

parentPort.on('message', async (message) => {
  switch (message.type) {
    case 'load': {
      try {
        await load();
        // Warm-up and signature check on the identity's neutral landmarks.
        const started = performance.now();
        await infer(message.warmup);
        parentPort.postMessage({ type: 'loaded', warmupMs: performance.now() - started, outputPreallocated });
      } catch (error) {
        parentPort.postMessage({ type: 'loadError', message: error instanceof Error ? error.message : String(error) });
      }
      return;
    }
    case 'run':
      waiting.push(message);
      void drain();
      return;
    case 'crash':
      process.exit(70);
      return;
    case 'dispose':
      try {
        await session?.release?.();
      } finally {
        // exit even if the release failed: the thread holds nothing else
        session = undefined;
        process.exit(0);
      }
      return;
    default:
      return;
  }
});
