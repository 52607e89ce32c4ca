/**
 * The real face-api (@vladmandic/face-api 1.7.15 on tfjs 4.22, pure-JS cpu or wasm backend) run
 * on images that Python sends: the reference the PyTorch port in avatar_ml.identity is checked
 * against. One job (faceApiJobSchema) as JSON on stdin, one result line on stdout; errors go to
 * stderr with a non-zero exit code.
 *
 *   tsx models/identity/faceApiReference.ts < job.json
 */
import { createRequire } from 'node:module';
import { text } from 'node:stream/consumers';
import {
  DESCRIPTOR_SIZE,
  faceApiJobOutputSchema,
  faceApiJobSchema,
  type FaceApiFace,
  type FaceApiImage,
  type FaceApiJob,
  type FaceApiResult,
} from '../../shared/src/identity/faceApiJob';

// face-api's Node wasm build is CommonJS and requires '@tensorflow/tfjs' itself; requiring both
// through one `require` shares a single tfjs engine (and its backend choice).
const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as typeof import(
  '@vladmandic/face-api/dist/face-api.node-wasm.js'
);

type Tensor3D = import('@tensorflow/tfjs').Tensor3D;

class JobError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JobError';
  }
}

function toTensor(image: FaceApiImage): Tensor3D {
  const bytes = Buffer.from(image.rgbBase64, 'base64');
  const expected = image.width * image.height * 3;
  if (bytes.length !== expected) {
    throw new JobError(`image ${image.id}: ${bytes.length} bytes, expected ${expected} (RGB)`);
  }
  return tf.tensor3d(new Int32Array(bytes), [image.height, image.width, 3], 'int32');
}

function toDescriptor(value: Float32Array | Float32Array[]): number[] {
  const single = Array.isArray(value) ? value[0] : value;
  if (!single || single.length !== DESCRIPTOR_SIZE) throw new JobError('face-api gave no descriptor');
  return Array.from(single);
}

async function detect(input: Tensor3D, minConfidence: number): Promise<FaceApiFace | null> {
  // face-api's typings take its own narrower tf namespace; the tensor is the same runtime class.
  const netInput = input as unknown as Parameters<typeof faceapi.detectSingleFace>[0];
  const found = await faceapi
    .detectSingleFace(netInput, new faceapi.SsdMobilenetv1Options({ minConfidence }))
    .withFaceLandmarks()
    .withFaceDescriptor();
  if (!found) return null;
  const box = found.detection.box;
  const aligned = found.landmarks
    .align(null, { useDlibAlignment: true })
    .clipAtImageBorders(input.shape[1], input.shape[0]);
  return {
    score: found.detection.score,
    detectionBox: { x: box.x, y: box.y, width: box.width, height: box.height },
    alignedBox: { x: aligned.x, y: aligned.y, width: aligned.width, height: aligned.height },
    landmarks68: found.landmarks.positions.map((p) => [p.x, p.y] as [number, number]),
    descriptor: Array.from(found.descriptor),
  };
}

async function runImage(job: FaceApiJob, image: FaceApiImage): Promise<FaceApiResult> {
  const input = toTensor(image);
  try {
    if (image.task === 'descriptor') {
      const netInput = input as unknown as Parameters<typeof faceapi.computeFaceDescriptor>[0];
      return { id: image.id, task: 'descriptor', descriptor: toDescriptor(await faceapi.computeFaceDescriptor(netInput)) };
    }
    return { id: image.id, task: 'detect', face: await detect(input, job.minConfidence) };
  } finally {
    input.dispose();
  }
}

async function run(job: FaceApiJob): Promise<void> {
  if (!(await tf.setBackend(job.backend))) throw new JobError(`tfjs backend ${job.backend} failed to start`);
  await tf.ready();
  await faceapi.nets.faceRecognitionNet.loadFromDisk(job.modelDir);
  if (job.images.some((image) => image.task === 'detect')) {
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(job.modelDir);
    await faceapi.nets.faceLandmark68Net.loadFromDisk(job.modelDir);
  }
  const results: FaceApiResult[] = [];
  for (const image of job.images) results.push(await runImage(job, image));
  // Parse our own output too: the Python side relies on exactly this shape.
  const output = faceApiJobOutputSchema.parse({ backend: tf.getBackend(), results });
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

async function main(): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(await text(process.stdin));
  } catch (error) {
    throw new JobError('stdin is not JSON', { cause: error });
  }
  const parsed = faceApiJobSchema.safeParse(raw);
  if (!parsed.success) throw new JobError(`invalid job: ${parsed.error.message}`);
  await run(parsed.data);
}

main().catch((error: unknown) => {
  process.stderr.write(`faceApiReference: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
