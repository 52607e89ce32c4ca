// Render worker thread: owns one onnxruntime InferenceSession (one identity's student) and runs
// it off the main event loop. Plain JavaScript so it starts the same under tsx, vitest and node.
// Protocol (renderWorkerProtocol.ts): load → loaded | loadError; run → result | runError;
// crash (tests) exits the thread with code 70; dispose releases the session and exits 0.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { modelPath, inputName, outputName, executionProvider, intraOpThreads, interOpThreads, landmarkFloats, outputBytes } =
  workerData;

let session;
let input;
let output;
let outputPreallocated = true;

async function load() {
  const providers = executionProvider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];
  session = await ort.InferenceSession.create(modelPath, {
    executionProviders: providers,
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: interOpThreads,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  if (!session.inputNames.includes(inputName)) throw new Error(`model has no input "${inputName}" (inputs: ${session.inputNames.join(', ')})`);
  if (!session.outputNames.includes(outputName)) throw new Error(`model has no output "${outputName}" (outputs: ${session.outputNames.join(', ')})`);
  // Pre-allocated tensors: the input is refilled per frame; the output is written in place.
  input = new ort.Tensor('float32', new Float32Array(landmarkFloats), [1, landmarkFloats / 3, 3]);
  const side = Math.round(Math.sqrt(outputBytes / 3));
  output = new ort.Tensor('uint8', new Uint8Array(outputBytes), [1, side, side, 3]);
}

async function infer(landmarks) {
  input.data.set(landmarks);
  if (outputPreallocated) {
    try {
      await session.run({ [inputName]: input }, { [outputName]: output });
      return output.data;
    } catch (error) {
      // A runtime that refuses pre-allocated outputs: allocate per run from then on.
      outputPreallocated = false;
      if (!String(error).match(/output|fetch|preallocat|shape|type/i)) throw error;
    }
  }
  const result = await session.run({ [inputName]: input });
  const frame = result[outputName];
  if (frame.type !== 'uint8' || frame.data.length !== outputBytes) {
    throw new Error(`output "${outputName}" is ${frame.type}[${frame.dims.join(',')}], expected uint8 with ${outputBytes} values`);
  }
  return frame.data;
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
    case 'run': {
      try {
        const started = performance.now();
        const data = await infer(message.landmarks);
        const inferenceMs = performance.now() - started;
        // Copy out of the pre-allocated output and hand the copy over without another copy.
        const frame = new Uint8Array(data);
        parentPort.postMessage({ type: 'result', id: message.id, frame, inferenceMs }, [frame.buffer]);
      } catch (error) {
        parentPort.postMessage({ type: 'runError', id: message.id, message: error instanceof Error ? error.message : String(error) });
      }
      return;
    }
    case 'crash':
      process.exit(70);
      return;
    case 'dispose':
      await session?.release?.();
      session = undefined;
      process.exit(0);
      return;
    default:
      return;
  }
});
