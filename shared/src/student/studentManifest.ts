/**
 * The student contract: what `python -m avatar_ml.student.train` writes next to `student.onnx`
 * as `manifest.json`, and what the live renderer (server/src/avatar/) and the onboarding service
 * (server/src/identities/) read. One definition; Python writes it, TypeScript parses it.
 *
 * The ONNX graph takes exactly what the server holds after decoding (and retargeting) a motion
 * packet and returns a finished RGB frame; the server does no image work before inference.
 *   input  `landmarks`: float32 [1, 478, 3], MediaPipe FaceLandmarker coordinates normalised to
 *          the identity's reference image (x, y in [0,1] of `identity.imageSize`, z in x's scale)
 *   output `frame`:     uint8 [1, S, S, 3], RGB, S = `model.outputSize` (256 by default)
 */
import { z } from 'zod';

export const STUDENT_MANIFEST_SCHEMA_VERSION = 1;
export const LANDMARK_COUNT = 478;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const dim = z.union([z.number().int().positive(), z.string().min(1)]); // a size or a symbolic name

export const tensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'uint8', 'int64']),
  shape: z.array(dim).min(1),
  /** Units and coordinate frame in words, e.g. "normalised [0,1] image coords". */
  description: z.string().optional(),
});
export type TensorSpec = z.infer<typeof tensorSpecSchema>;

/** A gate metric: the student's value against the bar it had to clear. */
export const gateMetricSchema = z.object({
  value: z.number(),
  /** The bar; `op` says which side passes. */
  threshold: z.number(),
  op: z.enum(['>=', '<=']),
  passed: z.boolean(),
  /** The same metric for reference methods scored on the same frames (teacher, warp2d, static). */
  reference: z.record(z.string(), z.number()).optional(),
});
export type GateMetric = z.infer<typeof gateMetricSchema>;

/**
 * The student's int8 CPU variant: the same graph with its decoder convolutions quantised
 * (onnxruntime static QDQ). Its gates are the float model's; `parity` bounds how far its frames are.
 */
export const int8VariantSchema = z.object({
  /** A file next to the manifest (no directories). */
  file: z.string().min(1).regex(/^[^/\\]+$/, 'a file name in the manifest directory'),
  sha256,
  /** How it was quantised, in words. */
  scheme: z.string(),
  /** Conv nodes left in float. */
  floatNodes: z.array(z.string()).default([]),
  calibrationFrames: z.number().int().positive(),
  /** int8 vs float frames on inputs not used for calibration; levels are uint8 output units. */
  parity: z.object({
    frames: z.number().int().positive(),
    maxAbsDiff: z.number().min(0),
    meanAbsDiff: z.number().min(0),
    psnrDb: z.number().min(0),
  }),
  /** Rough ms per frame on one thread where it was made: { float32, int8 }. */
  msPerFrame1Thread: z.record(z.string(), z.number()).optional(),
});
export type Int8Variant = z.infer<typeof int8VariantSchema>;

export const studentManifestSchema = z.object({
  schemaVersion: z.literal(STUDENT_MANIFEST_SCHEMA_VERSION),
  kind: z.literal('avatar-student'),
  createdAt: z.string().datetime({ offset: true }),
  model: z.object({
    /** Relative to the manifest's directory. */
    file: z.string().min(1).default('student.onnx'),
    sha256,
    opset: z.number().int().min(17),
    inputs: z.array(tensorSpecSchema).min(1),
    outputs: z.array(tensorSpecSchema).min(1),
    /** Output frame side in pixels (square). */
    outputSize: z.number().int().positive(),
    /** Floating-point operations per frame, counted with torch.utils.flop_counter (1 MAC = 2 FLOPs). */
    flopsPerFrame: z.number().int().positive(),
    params: z.number().int().positive(),
    /** max |PyTorch − onnxruntime| over the parity inputs, in output units (0..255). */
    parityMaxAbsDiff: z.number().min(0),
    /** Optional int8 variant for CPU serving (models/avatar_ml/student/quantize.py); the float file stays the reference. */
    int8: int8VariantSchema.optional(),
  }),
  identity: z.object({
    /** 'portrait': onboarded from one image; 'clip': from a video. */
    sourceKind: z.enum(['portrait', 'clip']),
    sourceSha256: sha256,
    /** Size of the reference image the landmarks are normalised to (pixels). */
    imageSize: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
    /** The identity's neutral landmarks, 478*3 floats, same coordinates as the input: the target of retargeting. */
    neutralLandmarks: z.array(z.number()).length(LANDMARK_COUNT * 3),
  }),
  training: z.object({
    teacherVersion: z.string().min(1),
    steps: z.number().int().min(0),
    wallTimeS: z.number().min(0),
    /** Where it trained, e.g. { cpu: "AMD EPYC 7B13", cores: 2, gpu: null, torch: "2.13.0" }. */
    machine: z.object({
      cpu: z.string(),
      cores: z.number().int().positive(),
      gpu: z.string().nullable(),
      torch: z.string(),
    }),
    /** Free-form recipe facts (losses, data mix, matte) for provenance. */
    recipe: z.record(z.string(), z.unknown()).default({}),
  }),
  gates: z.object({
    /** True only when every metric passed; `train` never marks a failing student publishable. */
    passed: z.boolean(),
    /** Frames the metrics were computed on, in words (e.g. "last 40% of d10.mp4, 179 frames"). */
    evaluatedOn: z.string(),
    metrics: z.record(z.string(), gateMetricSchema),
    /** Readable report next to the manifest (relative path), if written. */
    reportFile: z.string().optional(),
    /** Side-by-side preview video next to the manifest (relative path), if written. */
    previewFile: z.string().optional(),
  }),
});
export type StudentManifest = z.infer<typeof studentManifestSchema>;

export const STUDENT_INPUT_NAME = 'landmarks';
export const STUDENT_OUTPUT_NAME = 'frame';
